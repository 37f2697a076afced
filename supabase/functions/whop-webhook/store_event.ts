// Turns a verified, normalised event into the one SQL call that stores (and, when the flags allow,
// processes) it. Member PII and the raw body are encrypted here, before anything leaves the
// function; each ciphertext is bound to its row and field, so it cannot be moved elsewhere.
import { memberColumns } from "../_shared/crypto/member_columns.ts";
import { encryptField, type KeyRing } from "../_shared/crypto/pii.ts";
import { piiContext } from "../_shared/crypto/pii_context.ts";
import { type Sql, sqlLiteral } from "../_shared/db.ts";
import { withTimeout } from "../_shared/timeout.ts";
import type { NormalizedEvent } from "../_shared/whop/normalize.ts";

export interface StoreResult {
  status: "stored" | "duplicate";
  id: string;
  processed: boolean;
}

export async function eventRow(event: NormalizedEvent, rawBody: string, ring: KeyRing) {
  const { member, userId, companyId } = event;
  return {
    id: event.id,
    company_id: companyId,
    company_title: event.companyTitle,
    format: event.format,
    api_version: event.apiVersion,
    raw_type: event.rawType,
    type: event.type,
    occurred_at: event.occurredAt,
    membership_id: event.membershipId,
    user_id: userId,
    payment_id: event.paymentId,
    product_id: event.productId,
    product_title: event.productTitle,
    amount_minor: event.amountMinor,
    currency: event.currency,
    cancel_at_period_end: event.cancelAtPeriodEnd,
    recovery_url: event.recoveryUrl,
    manage_url: event.manageUrl,
    billing_reason: event.billingReason,
    failure_message: event.failureMessage,
    payments_failed: event.paymentsFailed,
    next_payment_attempt: event.nextPaymentAttempt,
    membership_status: event.membershipStatus,
    cancel_option: event.cancelOption,
    renewal_period_end: event.renewalPeriodEnd,
    // The member's own words: encrypted like their name, bound to this event and field.
    cancellation_reason_ciphertext: event.cancellationReason
      ? await encryptField(ring, event.cancellationReason, piiContext.event(event.id, "cancellation_reason"))
      : null,
    payload_ciphertext: await encryptField(ring, rawBody, piiContext.payload(event.id)),
    member: userId ? memberColumns(ring, companyId, userId, member) : null,
  };
}

export async function storeEvent(
  sql: Sql,
  row: Awaited<ReturnType<typeof eventRow>>,
  process: boolean,
  timeoutMs: number,
): Promise<StoreResult> {
  // The row as a literal, not a parameter: one round trip instead of two (sqlLiteral).
  const [result] = await withTimeout(
    sql.unsafe<{ result: StoreResult }[]>(
      `select public.ingest_webhook_event(${sqlLiteral(JSON.stringify(row))}::jsonb, ${
        process === true
      }) as result`,
    ),
    timeoutMs,
    "storing the event",
  );
  return result.result;
}
