// The Whop user token rules, claim by claim, against the official verifiers' behaviour (@whop/sdk
// 0.0.42 verifyUserToken, @whop/api 0.0.51): ES256, Whop's issuer, `sub`, `aud` one string equal to
// our app id, `exp` enforced when present but never required. Tokens come from the sandbox's minter.
import assert from "node:assert/strict";
import { createLocalJWKSet, decodeJwt, SignJWT } from "jose";
import { jwksDocument, loadSigningKey, mintUserToken, type SigningKey } from "../../whop-sandbox/jwks.ts";
import { verifyWhopUserToken, WHOP_TOKEN_ISSUER } from "../../web/lib/whop_user_token.ts";

const APP_ID = "app_churnSaverTest";
const USER = "user_tokenTest0001";

async function setup() {
  const key = await loadSigningKey();
  const keys = createLocalJWKSet(jwksDocument(key));
  const verify = (token: string) => verifyWhopUserToken(token, keys, APP_ID);
  return { key, verify };
}

/** Signs arbitrary claims with the trusted key (for shapes the minter does not produce). */
function signClaims(key: SigningKey, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: key.kid }).sign(key.privateKey);
}

Deno.test("a well-formed token gives its user id", async () => {
  const { key, verify } = await setup();
  assert.equal(await verify(await mintUserToken(key, { userId: USER, audience: APP_ID })), USER);
});

Deno.test("a token without exp is accepted (the official verifiers do not require it)", async () => {
  const { key, verify } = await setup();
  const token = await mintUserToken(key, { userId: USER, audience: APP_ID, noExpiry: true });
  assert.equal(decodeJwt(token).exp, undefined, "the minted token really has no exp");
  assert.equal(await verify(token), USER);
});

Deno.test("an expired token is refused", async () => {
  const { key, verify } = await setup();
  const token = await mintUserToken(key, { userId: USER, audience: APP_ID, expiresInSeconds: -120 });
  await assert.rejects(verify(token), /exp/);
});

Deno.test("a token not yet valid (nbf in the future) is refused", async () => {
  const now = Math.floor(Date.now() / 1000);
  const { key, verify } = await setup();
  const token = await signClaims(key, { iss: WHOP_TOKEN_ISSUER, aud: APP_ID, sub: USER, nbf: now + 600 });
  await assert.rejects(verify(token), /nbf/);
});

Deno.test("an array aud is refused even when it holds our app id", async () => {
  const { key, verify } = await setup();
  for (const audience of [[APP_ID], [APP_ID, "app_someoneElse01"]]) {
    const token = await mintUserToken(key, { userId: USER, audience });
    assert.deepEqual(decodeJwt(token).aud, audience, "the minted token really has an array aud");
    await assert.rejects(verify(token), /not for this app/, JSON.stringify(audience));
  }
});

Deno.test("a missing, empty or other app's aud is refused", async () => {
  const { key, verify } = await setup();
  await assert.rejects(verify(await mintUserToken(key, { userId: USER, audience: "app_someoneElse01" })));
  await assert.rejects(verify(await signClaims(key, { iss: WHOP_TOKEN_ISSUER, sub: USER })));
  await assert.rejects(verify(await signClaims(key, { iss: WHOP_TOKEN_ISSUER, sub: USER, aud: "" })));
});

Deno.test("a missing or empty sub is refused", async () => {
  const { key, verify } = await setup();
  await assert.rejects(verify(await signClaims(key, { iss: WHOP_TOKEN_ISSUER, aud: APP_ID })), /subject/);
  await assert.rejects(
    verify(await signClaims(key, { iss: WHOP_TOKEN_ISSUER, aud: APP_ID, sub: "" })),
    /subject/,
  );
});

Deno.test("a wrong or missing issuer is refused", async () => {
  const { key, verify } = await setup();
  await assert.rejects(
    verify(await mintUserToken(key, { userId: USER, audience: APP_ID, issuer: "urn:someone:else" })),
    /iss/,
  );
  await assert.rejects(verify(await signClaims(key, { aud: APP_ID, sub: USER })), /iss/);
});

Deno.test("any algorithm but ES256 is refused, even keyed with the public JWK", async () => {
  const { key, verify } = await setup();
  const claims = { iss: WHOP_TOKEN_ISSUER, aud: APP_ID, sub: USER };
  const b64url = (value: unknown) =>
    btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
  const hs256 = await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", kid: key.kid })
    .sign(new TextEncoder().encode(JSON.stringify(key.publicJwk)));
  await assert.rejects(verify(hs256));
  await assert.rejects(verify(`${b64url({ alg: "none" })}.${b64url(claims)}.`));
});

Deno.test("a token signed by a key outside the JWKS is refused", async () => {
  const { verify } = await setup();
  const stranger = await loadSigningKey();
  await assert.rejects(verify(await mintUserToken(stranger, { userId: USER, audience: APP_ID })));
});
