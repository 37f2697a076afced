// Who may see a company's dashboard: only a request carrying a valid Whop user token (ES256, Whop's
// issuer, our app as the single-string audience, not expired when it has an exp, signed by a key of
// Whop's JWKS) for a user Whop calls an admin of that company. Every other token is refused with 401
// or 403, and no data. The claim-by-claim rules are in tests/unit/whop_user_token_test.ts.
import assert from "node:assert/strict";
import { decodeJwt, SignJWT } from "jose";
import { createApp } from "../../web/app.ts";
import { adminToken, grantAccess, userToken } from "../support/dashboard.ts";
import { connectAsOwner, dashboardEnv, stackVar } from "../support/stack.ts";
import { uniqueCompany } from "../support/webhooks.ts";

const b64url = (value: unknown) =>
  btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");

Deno.test("dashboard tokens: every bad token is refused with 401/403 and no data", async () => {
  const sql = connectAsOwner();
  const { app, close } = await createApp(dashboardEnv({ APP_ENV: "production" }));
  try {
    const companyId = uniqueCompany("auth");
    const secretTitle = `Secret Title ${crypto.randomUUID().slice(0, 8)}`;
    await sql`insert into public.companies (company_id, title) values (${companyId}, ${secretTitle})`;
    await sql`insert into public.company_settings (company_id) values (${companyId})`;
    const { userId, token: good } = await adminToken(companyId);

    const get = async (token?: string, company = companyId) => {
      const response = await app.fetch(
        new Request(`http://dashboard/dashboard/${company}`, {
          headers: { accept: "text/html", ...(token ? { "x-whop-user-token": token } : {}) },
        }),
      );
      return { status: response.status, body: await response.text() };
    };

    const ok = await get(good);
    assert.ok(![401, 403].includes(ok.status), `the admin's own token is accepted (${ok.status})`);

    // Whop's verifiers do not require exp, so a token without one must not lock the admin out.
    const noExpiry = await userToken(userId, { no_expiry: true });
    assert.equal(decodeJwt(noExpiry).exp, undefined);
    const accepted = await get(noExpiry);
    assert.ok(![401, 403].includes(accepted.status), `a token without exp is accepted (${accepted.status})`);
    assert.ok(accepted.body.includes(secretTitle), "a token without exp sees the dashboard");

    const arrayAudience = await userToken(userId, { audience: [stackVar("WHOP_APP_ID")] });
    assert.deepEqual(decodeJwt(arrayAudience).aud, [stackVar("WHOP_APP_ID")]);

    const now = Math.floor(Date.now() / 1000);
    const claims = {
      sub: userId,
      iss: "urn:whopcom:exp-proxy",
      aud: stackVar("WHOP_APP_ID"),
      iat: now,
      exp: now + 600,
    };
    const jwks = await (await fetch(stackVar("WHOP_JWKS_URL"))).json();
    const publicJwk = jwks.keys[0];
    const hsWithPublicKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", kid: publicJwk.kid })
      .sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    const hsWithCoordinate = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", kid: publicJwk.kid })
      .sign(new TextEncoder().encode(publicJwk.x));

    const refused: [string, string | undefined, number][] = [
      ["missing", undefined, 401],
      ["garbage", "not.a.jwt", 401],
      ["expired", await userToken(userId, { expires_in_seconds: -120 }), 401],
      ["wrong issuer", await userToken(userId, { issuer: "urn:someone:else" }), 401],
      ["wrong audience", await userToken(userId, { audience: "app_someone_else" }), 401],
      ["array audience holding our app id", arrayAudience, 401],
      ["wrong key", await userToken(userId, { untrusted_key: true }), 401],
      ["alg none", `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims)}.`, 401],
      ["HS256 signed with the public JWK", hsWithPublicKey, 401],
      ["HS256 signed with the public key's x", hsWithCoordinate, 401],
      [
        "tampered payload",
        `${good.split(".")[0]}.${b64url({ ...claims, sub: "user_attacker" })}.${good.split(".")[2]}`,
        401,
      ],
    ];
    for (const [name, token, status] of refused) {
      const response = await get(token);
      assert.equal(response.status, status, name);
      assert.ok(!response.body.includes(secretTitle), `${name}: no data`);
    }

    // Valid tokens of users who are not admins of this company.
    const customer = `user_customer_${companyId.slice(4)}`;
    await grantAccess(customer, companyId, "customer");
    const stranger = `user_stranger_${companyId.slice(4)}`;
    for (
      const [name, token] of [["customer", await userToken(customer)], [
        "no access",
        await userToken(stranger),
      ]]
    ) {
      const response = await get(token);
      assert.equal(response.status, 403, name);
      assert.ok(!response.body.includes(secretTitle), `${name}: no data`);
    }

    // An admin of company A visiting company B's URL.
    const companyB = uniqueCompany("authb");
    await sql`insert into public.companies (company_id, title) values (${companyB}, 'B Title')`;
    const other = await get(good, companyB);
    assert.equal(other.status, 403);
    assert.ok(!other.body.includes("B Title"));

    // A malformed company id is simply not found.
    assert.equal((await get(good, "not-a-company")).status, 404);
  } finally {
    await close();
    await sql.end();
  }
});

Deno.test("the access check is cached briefly: Whop is asked once for repeated requests", async () => {
  const sql = connectAsOwner();
  const { app, close } = await createApp(dashboardEnv());
  const companyId = uniqueCompany("cache");
  try {
    await sql`insert into public.companies (company_id) values (${companyId})`;
    const { token } = await adminToken(companyId);
    const before = (await (await fetch(
      `${stackVar("WHOP_SANDBOX_URL")}/_sandbox/calls?path=/api/v1/users/*/access/${companyId}`,
    )).json()).calls.length;
    for (let i = 0; i < 3; i++) {
      const response = await app.fetch(
        new Request(`http://dashboard/dashboard/${companyId}`, { headers: { "x-whop-user-token": token } }),
      );
      await response.body?.cancel();
    }
    const after = (await (await fetch(
      `${stackVar("WHOP_SANDBOX_URL")}/_sandbox/calls?path=/api/v1/users/*/access/${companyId}`,
    )).json()).calls.length;
    assert.equal(after - before, 1);
  } finally {
    await sql`delete from public.companies where company_id = ${companyId}`;
    await close();
    await sql.end();
  }
});
