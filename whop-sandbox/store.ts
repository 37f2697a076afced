// Everything the sandbox remembers: Whop-side objects (memberships, payments, access grants,
// experiences, DM channels, messages, notifications) plus the test machinery (call log, faults,
// idempotency cache, rate-limit windows, webhook deliveries, settings). One object, so `reset()` can
// put all of it back to the start state in one place.
import { CallLog } from "./call_log.ts";
import { FaultRegistry } from "./faults.ts";
import { IdempotencyCache } from "./idempotency.ts";
import { RateLimiter } from "./rate_limit.ts";
import type { AccessLevel, WhopExperience, WhopMembership, WhopPayment } from "./whop_objects.ts";
import type { Whop } from "@whop/sdk";

export interface DmChannelRecord {
  channel: Whop.DmChannel;
  /** Sorted, de-duplicated participants; with company_id this is the "same channel" key. */
  user_ids: string[];
  company_id: string | null;
}

export interface NotificationRecord {
  seq: number;
  at: string;
  experience_id: string | null;
  company_id: string | null;
  user_ids: string[] | null;
  title: string;
  subtitle: string | null;
  content: string;
  rest_path: string | null;
  icon_user_id: string | null;
}

export interface MessageRecord {
  channel_id: string;
  message: Whop.Message;
}

/** How `POST /payments/{id}/retry` turns out for a payment (a sandbox-only knob set via fixtures). */
export type RetryOutcome = "succeeded" | "failed";

export interface Settings {
  /** Per operation per credential; null = no limit (the default). Whop's real limit is 600. */
  rate_limit_per_minute: number | null;
  /** Whether sandbox-generated 429s also carry a Retry-After header (Whop's behaviour is unknown). */
  rate_limit_retry_after_header: boolean;
  /**
   * Whether mutations are handled as if they carried no Idempotency-Key: every retry takes effect
   * again. No Whop doc mentions the header (WHOP.md section 2), so the app must be correct either way.
   */
  ignore_idempotency_key: boolean;
}

export interface WebhookDelivery {
  seq: number;
  id: string;
  at: string;
  format: "v1" | "legacy";
  target_url: string;
  request_headers: Record<string, string>;
  raw_body: string;
  status: number | null;
  response_body: unknown;
  error: string | null;
  duration_ms: number;
}

export const DEFAULT_SETTINGS: Settings = {
  rate_limit_per_minute: null,
  rate_limit_retry_after_header: false,
  ignore_idempotency_key: false,
};

export class SandboxState {
  memberships = new Map<string, WhopMembership>();
  payments = new Map<string, WhopPayment>();
  retryOutcomes = new Map<string, RetryOutcome>();
  /** key: `${user_id}|${resource_id}` */
  access = new Map<string, AccessLevel>();
  experiences = new Map<string, WhopExperience>();
  channels = new Map<string, DmChannelRecord>();
  messages: MessageRecord[] = [];
  notifications: NotificationRecord[] = [];
  webhookDeliveries: WebhookDelivery[] = [];
  webhookSeq = 0;
  notificationSeq = 0;

  readonly calls = new CallLog();
  readonly faults = new FaultRegistry();
  readonly idempotency = new IdempotencyCache();
  readonly rateLimiter = new RateLimiter();
  settings: Settings;

  constructor(private readonly initialSettings: Settings = DEFAULT_SETTINGS) {
    this.settings = { ...initialSettings };
  }

  static accessKey(userId: string, resourceId: string): string {
    return `${userId}|${resourceId}`;
  }

  /** Back to the start state: no objects, calls, faults, channels, cached answers or deliveries. */
  reset(): void {
    this.memberships.clear();
    this.payments.clear();
    this.retryOutcomes.clear();
    this.access.clear();
    this.experiences.clear();
    this.channels.clear();
    this.messages = [];
    this.notifications = [];
    this.webhookDeliveries = [];
    this.calls.clear();
    this.faults.clear();
    this.idempotency.clear();
    this.rateLimiter.clear();
    this.settings = { ...this.initialSettings };
  }

  addDelivery(delivery: WebhookDelivery): void {
    this.webhookDeliveries.push(delivery);
    if (this.webhookDeliveries.length > 10_000) this.webhookDeliveries.splice(0, 1_000);
  }
}
