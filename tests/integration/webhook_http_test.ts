// End to end over real HTTP on the running stack: the Whop sandbox signs and delivers a webhook to
// the functions gateway, the function stores it, the case opens. And the bytes on the wire are what
// is verified: a body with a byte-order mark (issue 11 item 9).
import assert from "node:assert/strict";
import { decryptField, loadKeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import { piiContext } from "../../supabase/functions/_shared/crypto/pii_context.ts";
import {
  hmacSha256,
  signedBytes,
  signStandardWebhook,
  toBase64,
} from "../../supabase/functions/_shared/whop/webhook_signature.ts";
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { connectAsOwner, getJson, stack, stackVar } from "../support/stack.ts";
import { setFlags, uniqueCompany, webhookSecret } from "../support/webhooks.ts";

Deno.test("a webhook sent by the sandbox through the gateway opens a case", async () => {
  const sql = connectAsOwner();
  try {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    const companyId = uniqueCompany("http");
    const delivery = await getJson(`${stack.sandboxUrl}/_sandbox/webhooks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "payment.failed",
        data: {
          id: "pay_http1",
          company: { id: companyId },
          membership: { id: "mem_http1", status: "past_due" },
          total: 12.5,
          currency: "eur",
        },
        company_id: companyId,
      }),
    });
    assert.equal(delivery.status, 200, JSON.stringify(delivery.body));
    assert.equal(delivery.body.status, 200, `the function answered: ${JSON.stringify(delivery.body.body)}`);
    assert.equal((delivery.body.body as { status: string }).status, "stored");

    const cases =
      await sql`select status, amount_at_risk_minor, currency from public.recovery_cases where company_id = ${companyId}`;
    assert.deepEqual(
      cases.map((row) => ({ ...row, amount_at_risk_minor: Number(row.amount_at_risk_minor) })),
      [
        { status: "open", amount_at_risk_minor: 1250, currency: "eur" },
      ],
    );
  } finally {
    await sql.end();
  }
});

const BOM = "\uFEFF";

/** POSTs `bytes` to the gateway exactly as given, with a v1 signature computed over `signedText`. */
async function deliverBytes(bytes: Uint8Array<ArrayBuffer>, id: string, signedText: string) {
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = await signStandardWebhook({ secret: webhookSecret(), id, timestamp, body: signedText });
  return await getJson(`${stack.functionsUrl}/whop-webhook`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signature,
    },
    body: bytes,
  });
}

Deno.test("a signed body starting with a UTF-8 byte-order mark is verified on its bytes and stored", async () => {
  const sql = connectAsOwner();
  try {
    const companyId = uniqueCompany("bom");
    const event = paymentEvent("payment.succeeded", { companyId, membershipId: "mem_bom1" });
    const json = JSON.stringify(event);
    const bytes = new TextEncoder().encode(BOM + json);
    assert.deepEqual([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf], "the mark is on the wire");

    // Signed over the bytes sent, mark included (what Whop's signer sees).
    const answer = await deliverBytes(bytes, event.id, BOM + json);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body, { status: "stored", id: event.id, processed: answer.body.processed });
    const [row] =
      await sql`select company_id, type, payload_ciphertext from public.events where id = ${event.id}`;
    assert.deepEqual({ company: row.company_id, type: row.type }, {
      company: companyId,
      type: "payment.succeeded",
    });
    // The stored payload is the JSON document, without the mark.
    const ring = await loadKeyRing(stackVar("ENCRYPTION_KEYS"));
    assert.equal(await decryptField(ring, row.payload_ciphertext, piiContext.payload(event.id)), json);
  } finally {
    await sql.end();
  }
});

Deno.test("a byte-order mark that was not signed makes the signature fail: 401, nothing stored", async () => {
  const sql = connectAsOwner();
  try {
    const companyId = uniqueCompany("bomforged");
    const event = paymentEvent("payment.succeeded", { companyId, membershipId: "mem_bom2" });
    const json = JSON.stringify(event);
    // Signed over the text without the mark, sent with it.
    const answer = await deliverBytes(new TextEncoder().encode(BOM + json), event.id, json);
    assert.equal(answer.status, 401, JSON.stringify(answer.body));
    assert.equal((answer.body.error as { code: string }).code, "bad_signature");
    const [stored] = await sql`select count(*)::int as n from public.events where id = ${event.id}`;
    assert.equal(stored.n, 0);

    // Signed bytes that are not UTF-8 verify, and are then refused as malformed (400), not 401.
    const invalid = new Uint8Array([0x7b, 0xff, 0x7d]);
    const timestamp = Math.floor(Date.now() / 1000);
    const id = `msg_notutf8${crypto.randomUUID().slice(0, 8)}`;
    const mac = await hmacSha256(webhookSecret(), signedBytes(`${id}.${timestamp}.`, invalid));
    const notUtf8 = await getJson(`${stack.functionsUrl}/whop-webhook`, {
      method: "POST",
      headers: {
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": `v1,${toBase64(mac)}`,
      },
      body: invalid,
    });
    assert.equal(notUtf8.status, 400, JSON.stringify(notUtf8.body));
    assert.equal((notUtf8.body.error as { code: string }).code, "malformed_json");
  } finally {
    await sql.end();
  }
});
