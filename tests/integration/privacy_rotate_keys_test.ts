// Key rotation: rows written under key v1 by the real webhook function are re-encrypted by
// `deno task privacy rotate-keys` once v2 is put first; every field is then on v2, decrypts to the
// same plaintext with v1 gone from the ring, the blind index still finds the member, and a second
// run changes nothing. A ring that cannot decrypt the rows fails loudly and changes nothing. The
// member's cancellation reason, kept encrypted with its event, rotates with the payload.
import assert from "node:assert/strict";
import {
  decryptField,
  emailBlindIndexCandidates,
  type KeyRing,
  loadKeyRing,
} from "../../supabase/functions/_shared/crypto/pii.ts";
import { piiContext } from "../../supabase/functions/_shared/crypto/pii_context.ts";
import { searchWordCandidates, tokenKeyId } from "../../supabase/functions/_shared/crypto/search_tokens.ts";
import { membershipEvent, paymentEvent } from "../../whop-sandbox/payloads.ts";
import { runTask } from "../support/cli.ts";
import { connectAsOwner } from "../support/stack.ts";
import { setFlags, signedRequest, uniqueCompany, withWebhookApp } from "../support/webhooks.ts";

type Sql = ReturnType<typeof connectAsOwner>;

const newKey = (id: string) =>
  `${id}:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;

const FIELDS = ["email", "name", "username"] as const;

/** Every encrypted value of the company, decrypted with `ring`, plus the key ids it is stored under. */
async function storedState(sql: Sql, ring: KeyRing, companyId: string) {
  const members = await sql`select * from public.members where company_id = ${companyId} order by user_id`;
  const events = await sql`select id, payload_ciphertext, cancellation_reason_ciphertext from public.events
                            where company_id = ${companyId} order by id`;
  const plaintext: Record<string, string> = {};
  const keyIds = new Set<string>();
  for (const member of members) {
    for (const field of FIELDS) {
      const ciphertext = member[`${field}_ciphertext`];
      keyIds.add(ciphertext.split(".")[1]);
      plaintext[`${member.user_id}.${field}`] = await decryptField(
        ring,
        ciphertext,
        piiContext.member(companyId, member.user_id, field),
      );
    }
    keyIds.add(`index:${member.email_blind_index.split(".")[0]}`);
    for (const token of member.search_tokens ?? []) keyIds.add(`tokens:${tokenKeyId(token)}`);
  }
  for (const event of events) {
    keyIds.add(event.payload_ciphertext.split(".")[1]);
    plaintext[event.id] = await decryptField(ring, event.payload_ciphertext, piiContext.payload(event.id));
    if (event.cancellation_reason_ciphertext !== null) {
      keyIds.add(event.cancellation_reason_ciphertext.split(".")[1]);
      plaintext[`${event.id}.cancellation_reason`] = await decryptField(
        ring,
        event.cancellation_reason_ciphertext,
        piiContext.event(event.id, "cancellation_reason"),
      );
    }
  }
  return { plaintext, keyIds: [...keyIds].sort(), members, events };
}

Deno.test("rotate-keys re-encrypts every row with the newest key, resumably, without changing plaintext", async () => {
  const sql = connectAsOwner();
  const companyId = uniqueCompany("rot");
  const suffix = companyId.slice(4, 12);
  const v1 = newKey(`old${suffix}`);
  const v2 = newKey(`new${suffix}`);
  const v1Id = v1.split(":")[0];
  const v2Id = v2.split(":")[0];
  try {
    await setFlags(sql, { WEBHOOK_PROCESSING_ENABLED: true, ROLLBACK_MODE: false });
    await withWebhookApp(async ({ send }) => {
      for (let i = 1; i <= 3; i++) {
        const event = paymentEvent("payment.failed", {
          companyId,
          membershipId: `mem_rot${i}`,
          userId: `user_rot${i}`,
          email: `Rotate${i}@Example.com`,
          name: `Rosa Rotation ${i}`,
          username: `rosa${i}`,
        });
        assert.equal((await send(await signedRequest(event))).status, 200);
      }
      const cancel = membershipEvent("membership.cancel_at_period_end_changed", {
        companyId,
        membershipId: "mem_rot1",
        userId: "user_rot1",
        email: "Rotate1@Example.com",
        name: "Rosa Rotation 1",
        username: "rosa1",
        cancellationReason: "Moving to another community",
      });
      assert.equal((await send(await signedRequest(cancel))).status, 200);
    }, { ENCRYPTION_KEYS: v1 });

    const before = await storedState(sql, await loadKeyRing(v1), companyId);
    assert.deepEqual(
      before.keyIds,
      [`index:${v1Id}`, `tokens:${v1Id}`, v1Id].sort(),
      "fixture: everything on v1, the webhook wrote search tokens",
    );
    assert.equal(
      Object.keys(before.plaintext).length,
      14,
      "9 member fields, 4 payloads, 1 cancellation reason",
    );
    assert.equal(
      before.plaintext[
        `${before.events.find((e) => e.cancellation_reason_ciphertext)!.id}.cancellation_reason`
      ],
      "Moving to another community",
    );

    // --batch 2 makes it take several batches.
    const rotated = await runTask("privacy", ["rotate-keys", "--company", companyId, "--batch", "2"], {
      ENCRYPTION_KEYS: `${v2},${v1}`,
    });
    assert.equal(rotated.code, 0, rotated.text);
    assert.match(rotated.stdout, /members: 2 of 3 done/, "progress per batch");
    assert.match(rotated.stdout, /members\s+3\s+3\s+0\s+0/, `summary:\n${rotated.stdout}`);
    assert.match(rotated.stdout, /events\s+4\s+4\s+0\s+0/);

    const v2Only = await loadKeyRing(v2);
    const after = await storedState(sql, v2Only, companyId);
    assert.deepEqual(
      after.keyIds,
      [`index:${v2Id}`, `tokens:${v2Id}`, v2Id].sort(),
      "every field, index and search token is on v2",
    );
    assert.deepEqual(after.plaintext, before.plaintext, "and decrypts to the same plaintext without v1");
    const candidates = await emailBlindIndexCandidates(v2Only, "rotate2@example.com");
    const [found] =
      await sql`select user_id from public.members where company_id = ${companyId} and email_blind_index = any(${candidates})`;
    assert.equal(found.user_id, "user_rot2", "the blind index finds the member with v2 alone");
    const byWords = await sql`select user_id from public.members where company_id = ${companyId}
      and search_tokens && ${searchWordCandidates(v2Only, companyId, "rosa")}::text[]
      and search_tokens && ${searchWordCandidates(v2Only, companyId, "rotate2")}::text[]`;
    assert.deepEqual(byWords.map((row) => row.user_id), ["user_rot2"], "so do the search tokens");

    const again = await runTask("privacy", ["rotate-keys", "--company", companyId], { ENCRYPTION_KEYS: v2 });
    assert.equal(again.code, 0, again.text);
    assert.match(again.stdout, /members\s+0\s+0\s+0\s+0/, "a second run has nothing to do");
    const unchanged = await storedState(sql, v2Only, companyId);
    assert.deepEqual(unchanged.members, after.members);
    assert.deepEqual(unchanged.events, after.events);

    // A ring without the key the rows are on: every row fails, none is touched, and the CLI says why.
    const v3 = newKey(`other${suffix}`);
    const wrong = await runTask("privacy", ["rotate-keys", "--company", companyId], {
      ENCRYPTION_KEYS: `${v3},${v1}`,
    });
    assert.equal(wrong.code, 1, wrong.text);
    assert.match(wrong.text, /7 row\(s\) hold a field no key of ENCRYPTION_KEYS decrypts/);
    assert.deepEqual((await storedState(sql, v2Only, companyId)).members, after.members);
  } finally {
    await sql`delete from public.companies where company_id = ${companyId}`;
    await sql.end();
  }
});
