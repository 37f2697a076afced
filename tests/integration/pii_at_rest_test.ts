// Member PII is never stored in plaintext: after real deliveries, no column of any table holds the
// member's email, name or username; what is stored decrypts back with the key ring, also after a
// new key is put first; the blind index finds the member by exact email.
import assert from "node:assert/strict";
import {
  decryptField,
  emailBlindIndexCandidates,
  loadKeyRing,
} from "../../supabase/functions/_shared/crypto/pii.ts";
import { piiContext } from "../../supabase/functions/_shared/crypto/pii_context.ts";
import { paymentEvent } from "../../whop-sandbox/payloads.ts";
import { stackVar } from "../support/stack.ts";
import { setFlags, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

const newKey = () =>
  `k${Date.now()}:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;

Deno.test("no plaintext email, name or username anywhere; old-key records decrypt after rotation", async () => {
  const companyId = uniqueCompany("pii");
  const member = {
    email: `Jane.Doe+${crypto.randomUUID().slice(0, 8)}@Example.com`,
    name: `Jane Plaintext-${crypto.randomUUID().slice(0, 6)}`,
    username: `janedoe_${crypto.randomUUID().slice(0, 6)}`,
  };
  const oldKeys = stackVar("ENCRYPTION_KEYS");

  await withWebhookApp(async ({ send, sql }) => {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    const payload = paymentEvent("payment.failed", {
      companyId,
      membershipId: "mem_pii",
      userId: "user_pii",
      ...member,
    });
    assert.equal((await send(await signedRequest(payload))).status, 200);

    // Grep every row of every table in public, as text.
    const tables = await sql<{ name: string }[]>`
      select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind = 'r'`;
    for (const { name } of tables) {
      // Table names come from the catalog, not from input.
      const rows = await sql.unsafe(`select t::text as row from public."${name}" t`);
      for (const { row } of rows) {
        for (
          const value of [
            member.email,
            member.email.toLowerCase(),
            member.name,
            member.username,
            "Jane.Doe",
            "Plaintext-",
          ]
        ) {
          assert.ok(!String(row).includes(value), `${name} holds "${value}" in plaintext`);
        }
      }
    }
  });

  // A new key goes first: new records use it, the old record still decrypts.
  const rotated = `${newKey()},${oldKeys}`;
  await withWebhookApp(async ({ send, sql }) => {
    const ring = await loadKeyRing(rotated);
    const later = paymentEvent("payment.failed", {
      companyId,
      membershipId: "mem_pii2",
      userId: "user_pii2",
      email: "second@example.com",
    });
    assert.equal((await send(await signedRequest(later))).status, 200);

    const [first] =
      await sql`select * from public.members where company_id = ${companyId} and user_id = 'user_pii'`;
    assert.ok(first.email_ciphertext.startsWith(`v1.${oldKeys.split(":")[0]}.`));
    assert.equal(
      await decryptField(ring, first.email_ciphertext, piiContext.member(companyId, "user_pii", "email")),
      member.email,
    );
    assert.equal(
      await decryptField(ring, first.name_ciphertext, piiContext.member(companyId, "user_pii", "name")),
      member.name,
    );

    const [second] =
      await sql`select * from public.members where company_id = ${companyId} and user_id = 'user_pii2'`;
    assert.ok(
      second.email_ciphertext.startsWith(`v1.${ring.currentKeyId}.`),
      "new records use the new first key",
    );

    // Exact search by email, across both keys, whatever the case and spacing typed.
    const candidates = await emailBlindIndexCandidates(ring, `  ${member.email.toUpperCase()} `);
    const found =
      await sql`select user_id from public.members where company_id = ${companyId} and email_blind_index = any(${candidates})`;
    assert.deepEqual(found.map((row) => row.user_id), ["user_pii"]);

    // The raw payload is kept encrypted too, bound to its event.
    const [event] =
      await sql`select id, payload_ciphertext from public.events where company_id = ${companyId} order by occurred_at limit 1`;
    const raw = await decryptField(ring, event.payload_ciphertext, piiContext.payload(event.id));
    assert.equal(JSON.parse(raw).data.user.email, member.email);
  }, { ENCRYPTION_KEYS: rotated });
});
