// 1,000 malformed deliveries (bad JSON, wrong types, huge bodies, missing and broken headers,
// unicode), many of them correctly signed so they reach validation: every one is answered 4xx,
// none 5xx, and none stores anything.
import assert from "node:assert/strict";
import { membershipEvent, paymentEvent } from "../../whop-sandbox/payloads.ts";
import { signedRequest, uniqueCompany, webhookSecret, withWebhookApp } from "../support/webhooks.ts";

let seed = 20261126;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];

const WEIRD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1e309,
  "",
  " ",
  "💥".repeat(50),
  "\u0000",
  "\ud800",
  [],
  {},
  [[[]]],
  true,
  "biz_",
  "biz_ok",
  "x".repeat(5000),
  { id: 1 },
  "2026-13-45T99:99:99Z",
  "NaN",
  -0.0001,
  Number.MAX_SAFE_INTEGER * 10,
];

/** A real payload with one or more fields deleted or replaced by something of the wrong kind. */
function mutated(companyId: string): Record<string, unknown> {
  const payload = structuredClone(
    random() < 0.5
      ? paymentEvent("payment.failed", { companyId, membershipId: "mem_fuzz" })
      : membershipEvent("membership.deactivated", { companyId, membershipId: "mem_fuzz" }),
  ) as unknown as Record<string, unknown>;
  const paths = [
    ["type"],
    ["timestamp"],
    ["data"],
    ["company_id"],
    ["api_version"],
    ["data", "id"],
    ["data", "user"],
    ["data", "total"],
    ["data", "currency"],
    ["data", "membership"],
    ["data", "user", "email"],
    ["data", "company"],
  ];
  for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
    const path = pick(paths);
    let target = payload as Record<string, unknown>;
    for (const key of path.slice(0, -1)) {
      if (!target[key] || typeof target[key] !== "object") break;
      target = target[key] as Record<string, unknown>;
    }
    if (random() < 0.3) delete target[path.at(-1)!];
    else target[path.at(-1)!] = pick(WEIRD_VALUES);
  }
  // Whatever else survived, the delivery must stay invalid: no company it could be routed to.
  payload.company_id = pick(["", "not_a_company", "biz_" + "x".repeat(100), 42, null, undefined]);
  payload.account_id = undefined;
  if (payload.data && typeof payload.data === "object") {
    (payload.data as Record<string, unknown>).company = null;
  }
  return payload;
}

Deno.test("1,000 malformed deliveries get 4xx, never 5xx, and store nothing", async () => {
  await withWebhookApp(async ({ send, sql }) => {
    const [{ n: eventsBefore }] = await sql`select count(*)::int as n from public.events`;
    const [{ n: companiesBefore }] = await sql`select count(*)::int as n from public.companies`;
    const statuses = new Map<number, number>();
    const secret = webhookSecret();
    for (let i = 0; i < 1000; i++) {
      const companyId = uniqueCompany("fuzz");
      const kind = i % 8;
      let request: Request;
      if (kind === 0) {
        request = await signedRequest(
          pick(["{", "[]", "null", '"text"', '{"a":}', "\u00ff\u00fe", "{}".repeat(1000), ""]),
          { id: `msg_fuzz_${i}` },
        );
      } else if (kind === 1) {
        request = await signedRequest({ id: `msg_fuzz_${i}`, padding: "é".repeat(200_000) });
      } else if (kind === 2) {
        const good = await signedRequest(paymentEvent("payment.failed", { companyId }));
        const headers = new Headers(good.headers);
        headers.delete(pick(["webhook-id", "webhook-timestamp", "webhook-signature"]));
        request = new Request(good.url, { method: "POST", headers, body: await good.text() });
      } else if (kind === 3) {
        const good = await signedRequest(paymentEvent("payment.failed", { companyId }));
        const headers = new Headers(good.headers);
        headers.set(
          pick(["webhook-signature", "webhook-timestamp", "webhook-id"]),
          pick(["", "v1,", "v2,abc", "\u00e9\u00ff", "1e10", "x".repeat(5000), "v1,AAAA"]),
        );
        request = new Request(good.url, { method: "POST", headers, body: await good.text() });
      } else if (kind === 4) {
        request = new Request("http://functions/whop-webhook", {
          method: "POST",
          headers: {
            "x-whop-signature": pick([
              "t=",
              "t=abc,v1=zz",
              "v1=" + "0".repeat(64),
              "garbage",
              `t=${Math.floor(Date.now() / 1000)},v1=${"f".repeat(64)}`,
            ]),
          },
          body: JSON.stringify({ action: "payment.failed", api_version: "v5", data: {} }),
        });
      } else {
        request = await signedRequest(mutated(companyId), { secret: random() < 0.9 ? secret : "ws_wrong" });
      }
      const response = await send(request);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      assert.ok(
        response.status >= 400 && response.status < 500,
        `delivery ${i} (kind ${kind}) answered ${response.status}: ${JSON.stringify(response.body)}`,
      );
      assert.equal(typeof (response.body.error as { message?: unknown })?.message, "string");
    }
    const [{ n: eventsAfter }] = await sql`select count(*)::int as n from public.events`;
    const [{ n: companiesAfter }] = await sql`select count(*)::int as n from public.companies`;
    assert.equal(eventsAfter, eventsBefore, "no event was stored");
    assert.equal(companiesAfter, companiesBefore, "no company was provisioned");
    console.log(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
  }, { WEBHOOK_MAX_BODY_BYTES: String(256 * 1024) });
});
