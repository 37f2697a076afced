// Sends one claimed job to Whop: a push through the company's experience, a DM, or the free-days
// incentive. Every call carries an Idempotency-Key derived from the job (the incentive's from the
// case), but Whop may ignore it: the client the dispatcher passes in (unknown_outcome.ts) checks
// Whop before repeating a call whose outcome was unknown, so a retry never reaches the member twice.
import { decryptField, type KeyRing } from "../_shared/crypto/pii.ts";
import { piiContext } from "../_shared/crypto/pii_context.ts";
import { createRecoveryLinkToken, RECOVERY_LINK_TTL_SECONDS, recoveryLinkUrl } from "../_shared/links.ts";
import { log } from "../_shared/log.ts";
import { renderMessage } from "../_shared/messages/render.ts";
import type { createWhopClient, WhopCallOutcome } from "../_shared/whop/client.ts";

/** A row of public.claim_due_jobs with status `claimed`. */
export interface ClaimedJob {
  job_id: number;
  case_id: string;
  company_id: string;
  channel: "push" | "dm" | "incentive";
  step: number;
  origin: "schedule" | "manual";
  attempts: number;
  membership_id: string;
  user_id: string | null;
  experience_id: string | null;
  templates: unknown;
  incentive_free_days: number;
  amount_minor: number | null;
  currency: string | null;
  company_title: string | null;
  member_name_ciphertext: string | null;
  /** The case's reason: picks the default wording. */
  reason: string;
  /** From the membership's newest event that named its product. */
  product_title: string | null;
  /** How many scheduled steps the case has on this channel: picks first, middle or last wording. */
  step_count: number;
  /** The case's free days: none, offered (not granted yet: this message announces them) or given. */
  incentive_state: "none" | "offered" | "given";
  /** False once Whop is known to give the case nowhere to send the member (set by the dispatcher). */
  has_destination?: boolean;
}

export interface SendDeps {
  whop: ReturnType<typeof createWhopClient>;
  ring: KeyRing;
  linkSigningKey: string;
  dashboardUrl: string;
  now: () => Date;
}

export async function sendJob(job: ClaimedJob, deps: SendDeps): Promise<WhopCallOutcome> {
  if (job.channel === "incentive") {
    return await deps.whop.addFreeDays(
      { membershipId: job.membership_id, days: job.incentive_free_days },
      `incentive:${job.case_id}`,
    );
  }
  if (!job.user_id) {
    return {
      ok: false,
      kind: "permanent",
      status: 422,
      code: "no_member",
      message: "the case has no member user id",
      latencyMs: 0,
    };
  }
  const message = renderMessage(job.channel, { step: job.step, steps: job.step_count }, job.templates, {
    firstName: await firstName(job, deps.ring),
    productName: job.product_title,
    amountMinor: job.amount_minor === null ? null : Number(job.amount_minor),
    currency: job.currency,
    // A link with nowhere to lead would only show the member an apology: leave it out.
    recoveryLink: job.has_destination === false ? null : recoveryLink(job, deps),
    freeDays: job.incentive_state === "none" ? 0 : job.incentive_free_days,
    freeDaysGiven: job.incentive_state === "given",
    companyName: job.company_title,
  }, job.reason);
  const key = `job:${job.job_id}`;
  if (job.channel === "push") {
    return await deps.whop.sendPushNotification({
      experienceId: job.experience_id!,
      userIds: [job.user_id],
      title: message.title,
      content: message.content,
      restPath: `recover/${job.case_id}`,
    }, key);
  }
  return await deps.whop.sendDirectMessage({
    userId: job.user_id,
    companyId: job.company_id,
    content: message.content,
  }, key);
}

function recoveryLink(job: ClaimedJob, deps: SendDeps): string {
  const expiresAt = Math.floor(deps.now().getTime() / 1000) + RECOVERY_LINK_TTL_SECONDS;
  const token = createRecoveryLinkToken(
    { caseId: job.case_id, jobId: job.job_id, expiresAt },
    deps.linkSigningKey,
  );
  return recoveryLinkUrl(deps.dashboardUrl, token);
}

/** The member's first name, decrypted only here and only for the message. */
async function firstName(job: ClaimedJob, ring: KeyRing): Promise<string | null> {
  if (!job.member_name_ciphertext || !job.user_id) return null;
  try {
    const name = await decryptField(
      ring,
      job.member_name_ciphertext,
      piiContext.member(job.company_id, job.user_id, "name"),
    );
    return name.trim().split(/\s+/)[0] || null;
  } catch (error) {
    log.warn("member name could not be decrypted; greeting without it", { job_id: job.job_id, error });
    return null;
  }
}
