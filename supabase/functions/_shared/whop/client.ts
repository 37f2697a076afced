// The Whop REST calls Churn Saver makes: nudges (push, DM), the free-days incentive, membership reads
// and cancellation, the dashboard's access check and the company's experiences (settings). Plain fetch, so the dispatcher sees every
// attempt's status and latency. Nothing here throws for HTTP or network problems: each call resolves
// to a WhopCallOutcome. Mutations carry the caller's Idempotency-Key, but no Whop doc confirms that
// Whop honours it (WHOP.md section 2): callers must not rely on it to avoid acting twice. Every call
// pins the API version (WHOP_API_VERSION_DATE) as the official SDK does.
import { z } from "zod";
import {
  INVALID_INPUT,
  outcomeFromAnswer,
  permanent,
  redactSecret,
  UNEXPECTED_RESPONSE,
  type WhopCallOutcome,
  type WhopFailure,
  type WhopSuccess,
} from "./client_outcome.ts";
import { sendWhopRequest, type WhopRequest, type WhopTransport } from "./client_transport.ts";

export {
  DEFAULT_RETRY_AFTER_SECONDS,
  INVALID_INPUT,
  outcomeUnknown,
  UNEXPECTED_RESPONSE,
  type WhopCallOutcome,
  type WhopFailure,
  type WhopSuccess,
} from "./client_outcome.ts";

export interface WhopClientOptions {
  /** Whop's API root including `/api/v1` (WHOP_API_BASE_URL), e.g. https://api.whop.com/api/v1. */
  baseUrl: string;
  apiKey: string;
  appId?: string;
  /** Per call, headers and body included. Default 10000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type DmChannelOutcome = (WhopSuccess & { channelId: string }) | WhopFailure;

export interface PushNotificationInput {
  experienceId: string;
  userIds: string[];
  title: string;
  content: string;
  subtitle?: string;
  restPath?: string;
}

export type WhopClient = ReturnType<typeof createWhopClient>;

/** A message as `GET /messages` lists it (the fields callers read; the rest is kept). */
export interface WhopListedMessage {
  id: string;
  content: string | null;
  created_at: string;
}

/** An experience as `GET /experiences` lists it (the fields callers read; the rest is kept). */
export interface WhopListedExperience {
  id: string;
  name: string;
  app: { id: string; name: string } | null;
}

export type ExperienceListOutcome =
  | (WhopSuccess & { experiences: WhopListedExperience[]; nextCursor: string | null })
  | WhopFailure;

export type MessageListOutcome =
  | (WhopSuccess & { messages: WhopListedMessage[]; nextCursor: string | null })
  | WhopFailure;

export const DEFAULT_TIMEOUT_MS = 10_000;
/** The API behaviour we are written against, sent as `Api-Version-Date` on every call: the date
 * @whop/sdk 0.0.42 pins (client.js, `version = ... ?? '2026-07-20'`). Without the header Whop answers
 * with its oldest (2025-01-01) behaviour (WHOP.md section 2). A new date may change the answers'
 * shapes: re-check what the schemas below rely on before moving it. */
export const WHOP_API_VERSION_DATE = "2026-07-20";
export const MIN_FREE_DAYS = 1;
export const MAX_FREE_DAYS = 1095;

// Only the fields callers rely on are checked; the full body is still handed back.
const notificationAnswer = z.object({ success: z.boolean() });
const dmChannelAnswer = z.object({ id: z.string().min(1) });
const messageAnswer = z.object({ id: z.string().min(1) });
const membershipAnswer = z.object({
  id: z.string().min(1),
  status: z.string(),
  manage_url: z.string().nullish(),
});
const accessAnswer = z.object({ has_access: z.boolean(), access_level: z.string() });
// @whop/sdk 0.0.42: messages.list() is a CursorPage of MessageListResponse.
const messageListAnswer = z.object({
  data: z.array(z.object({ id: z.string().min(1), content: z.string().nullable(), created_at: z.string() })),
  page_info: z.object({ end_cursor: z.string().nullish(), has_next_page: z.boolean().nullish() }).nullish(),
});
// @whop/sdk 0.0.42: experiences.list() is a CursorPage of ExperienceListResponse.
const experienceListAnswer = z.object({
  data: z.array(z.object({
    id: z.string().min(1),
    name: z.string(),
    app: z.object({ id: z.string(), name: z.string() }).nullish(),
  })),
  page_info: z.object({ end_cursor: z.string().nullish(), has_next_page: z.boolean().nullish() }).nullish(),
});
export const EXPERIENCE_PAGE_SIZE = 50;
/** Whop's page size limit is undocumented; 50 covers a member's DM channel with the app for months. */
export const MESSAGE_PAGE_SIZE = 50;

export function createWhopClient(options: WhopClientOptions) {
  const apiKey = options.apiKey ?? "";
  // A configuration error, thrown at start; the message deliberately does not quote the key.
  if (apiKey.trim() === "" || /[\s\p{Cc}]/u.test(apiKey)) {
    throw new Error("Whop client: apiKey is empty or contains whitespace/control characters");
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error("Whop client: timeoutMs must be > 0");

  const headers = new Headers({
    authorization: `Bearer ${apiKey}`,
    "content-type": "application/json",
    accept: "application/json",
    "api-version-date": WHOP_API_VERSION_DATE,
  });
  if (options.appId) headers.set("x-whop-app-id", options.appId);
  const transport: WhopTransport = {
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    headers,
    timeoutMs,
    fetch: options.fetch ?? fetch,
  };

  /** Sends, classifies, then checks the success body against what the caller relies on. */
  async function call(request: WhopRequest, expected: z.ZodType): Promise<WhopCallOutcome> {
    const what = `${request.method} ${request.path}`;
    const { answer, latencyMs } = await sendWhopRequest(transport, request);
    let outcome = outcomeFromAnswer(answer, latencyMs, what);
    if (outcome.ok && !expected.safeParse(outcome.body).success) {
      // Retrying will not change the shape of Whop's answer, so this is not transient.
      outcome = permanent(
        outcome.status,
        UNEXPECTED_RESPONSE,
        `Whop answered ${what} with an unexpected body`,
        latencyMs,
      );
    }
    return redactSecret(outcome, apiKey);
  }

  async function sendPushNotification(
    input: PushNotificationInput,
    idempotencyKey: string,
  ): Promise<WhopCallOutcome> {
    const invalid = checkKey(idempotencyKey) ?? checkId("experienceId", input.experienceId) ??
      // An empty list must never reach Whop: without user_ids a notification goes to the whole experience.
      (input.userIds.length === 0 || input.userIds.some((id) => !isId(id))
        ? invalidInput("userIds must be a non-empty list of user ids")
        : null);
    if (invalid) return invalid;
    const body: Record<string, unknown> = {
      experience_id: input.experienceId,
      user_ids: input.userIds,
      title: input.title,
      content: input.content,
    };
    if (input.subtitle !== undefined) body.subtitle = input.subtitle;
    if (input.restPath !== undefined) body.rest_path = input.restPath;
    const outcome = await call(
      { method: "POST", path: "/notifications", body, idempotencyKey },
      notificationAnswer,
    );
    if (outcome.ok && (outcome.body as { success: boolean }).success !== true) {
      return permanent(
        outcome.status,
        UNEXPECTED_RESPONSE,
        "Whop answered success: false",
        outcome.latencyMs,
      );
    }
    return outcome;
  }

  async function openDmChannel(
    input: { userId: string; companyId?: string },
    idempotencyKey: string,
  ): Promise<DmChannelOutcome> {
    const invalid = checkKey(idempotencyKey) ?? checkId("userId", input.userId);
    if (invalid) return invalid;
    const body: Record<string, unknown> = { with_user_ids: [input.userId] };
    if (input.companyId !== undefined) body.company_id = input.companyId;
    const outcome = await call(
      { method: "POST", path: "/dm_channels", body, idempotencyKey },
      dmChannelAnswer,
    );
    if (!outcome.ok) return outcome;
    return { ...outcome, channelId: (outcome.body as { id: string }).id };
  }

  function sendMessage(input: { channelId: string; content: string }, idempotencyKey: string) {
    const invalid = checkKey(idempotencyKey) ?? checkId("channelId", input.channelId);
    if (invalid) return Promise.resolve(invalid);
    const body = { channel_id: input.channelId, content: input.content };
    return call({ method: "POST", path: "/messages", body, idempotencyKey }, messageAnswer);
  }

  /** Two calls under derived keys; latencyMs of the result covers both. */
  async function sendDirectMessage(
    input: { userId: string; companyId?: string; content: string },
    idempotencyKey: string,
  ): Promise<WhopCallOutcome> {
    const invalid = checkKey(idempotencyKey);
    if (invalid) return invalid;
    const channel = await openDmChannel(
      { userId: input.userId, companyId: input.companyId },
      `${idempotencyKey}:channel`,
    );
    if (!channel.ok) return channel;
    const sent = await sendMessage(
      { channelId: channel.channelId, content: input.content },
      `${idempotencyKey}:message`,
    );
    return { ...sent, latencyMs: channel.latencyMs + sent.latencyMs };
  }

  function addFreeDays(input: { membershipId: string; days: number }, idempotencyKey: string) {
    const { days } = input;
    const invalid = checkKey(idempotencyKey) ?? checkId("membershipId", input.membershipId) ??
      (Number.isInteger(days) && days >= MIN_FREE_DAYS && days <= MAX_FREE_DAYS
        ? null
        : invalidInput(`days must be an integer from ${MIN_FREE_DAYS} to ${MAX_FREE_DAYS}`));
    if (invalid) return Promise.resolve(invalid);
    const path = `/memberships/${segment(input.membershipId)}/add_free_days`;
    return call({ method: "POST", path, body: { free_days: days }, idempotencyKey }, membershipAnswer);
  }

  /** Cancels a membership now or when its current billing period ends (Whop answers the Membership). */
  function cancelMembership(
    input: { membershipId: string; mode: "at_period_end" | "immediate" },
    idempotencyKey: string,
  ) {
    const invalid = checkKey(idempotencyKey) ?? checkId("membershipId", input.membershipId) ??
      (input.mode === "at_period_end" || input.mode === "immediate"
        ? null
        : invalidInput('mode must be "at_period_end" or "immediate"'));
    if (invalid) return Promise.resolve(invalid);
    const path = `/memberships/${segment(input.membershipId)}/cancel`;
    const body = { cancellation_mode: input.mode };
    return call({ method: "POST", path, body, idempotencyKey }, membershipAnswer);
  }

  /**
   * The latest messages of a channel, newest first: `GET /messages?channel_id=…&direction=desc&first=N`
   * (@whop/sdk 0.0.42 messages.list; WHOP.md names only POST /messages). `after` is a previous
   * page's cursor.
   */
  async function listMessages(
    input: { channelId: string; first?: number; after?: string },
  ): Promise<MessageListOutcome> {
    const first = input.first ?? MESSAGE_PAGE_SIZE;
    const invalid = checkId("channelId", input.channelId) ??
      (Number.isInteger(first) && first >= 1 && first <= 100 ? null : invalidInput("first must be 1..100"));
    if (invalid) return invalid;
    const query = new URLSearchParams({
      channel_id: input.channelId,
      direction: "desc",
      first: String(first),
    });
    if (input.after !== undefined) query.set("after", input.after);
    const outcome = await call({ method: "GET", path: `/messages?${query}` }, messageListAnswer);
    if (!outcome.ok) return outcome;
    const page = outcome.body as z.infer<typeof messageListAnswer>;
    const more = page.page_info?.has_next_page !== false && page.data.length === first;
    return {
      ...outcome,
      messages: page.data,
      nextCursor: more ? (page.page_info?.end_cursor ?? null) : null,
    };
  }

  /**
   * A page of the company's experiences (the places of its products' members on Whop, which push
   * notifications come from): `GET /experiences?company_id=…&first=N`, as @whop/sdk 0.0.42's
   * experiences.list and https://docs.whop.com/api-reference/experiences/list-experiences describe it.
   * `ownAppOnly` adds `app_id` = our app: "to send experience notifications, the experience must
   * belong to your app" (https://docs.whop.com/developer/guides/notifications).
   */
  async function listExperiences(
    input: { companyId: string; ownAppOnly?: boolean; first?: number; after?: string },
  ): Promise<ExperienceListOutcome> {
    const first = input.first ?? EXPERIENCE_PAGE_SIZE;
    const invalid = checkId("companyId", input.companyId) ??
      (input.ownAppOnly && !options.appId ? invalidInput("ownAppOnly needs the client's appId") : null) ??
      (Number.isInteger(first) && first >= 1 && first <= 100 ? null : invalidInput("first must be 1..100"));
    if (invalid) return invalid;
    const query = new URLSearchParams({ company_id: input.companyId, first: String(first) });
    if (input.ownAppOnly) query.set("app_id", options.appId!);
    if (input.after !== undefined) query.set("after", input.after);
    const outcome = await call({ method: "GET", path: `/experiences?${query}` }, experienceListAnswer);
    if (!outcome.ok) return outcome;
    const page = outcome.body as z.infer<typeof experienceListAnswer>;
    const more = page.page_info?.has_next_page !== false && page.data.length === first;
    return {
      ...outcome,
      experiences: page.data.map((item) => ({ id: item.id, name: item.name, app: item.app ?? null })),
      nextCursor: more ? (page.page_info?.end_cursor ?? null) : null,
    };
  }

  function getMembership(id: string) {
    const invalid = checkId("membership id", id);
    if (invalid) return Promise.resolve(invalid);
    return call({ method: "GET", path: `/memberships/${segment(id)}` }, membershipAnswer);
  }

  function checkAccess(userId: string, resourceId: string) {
    const invalid = checkId("userId", userId) ?? checkId("resourceId", resourceId);
    if (invalid) return Promise.resolve(invalid);
    return call(
      { method: "GET", path: `/users/${segment(userId)}/access/${segment(resourceId)}` },
      accessAnswer,
    );
  }

  return {
    sendPushNotification,
    openDmChannel,
    sendMessage,
    sendDirectMessage,
    addFreeDays,
    cancelMembership,
    getMembership,
    listMessages,
    listExperiences,
    checkAccess,
  };
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

function isId(value: unknown): value is string {
  return typeof value === "string" && value.trim() !== "";
}

/** Refused before sending: status 0, code "invalid_input", no latency. */
function invalidInput(message: string): WhopFailure {
  return permanent(0, INVALID_INPUT, message, 0);
}

function checkId(name: string, value: unknown): WhopFailure | null {
  return isId(value) ? null : invalidInput(`${name} must be a non-empty string`);
}

function checkKey(idempotencyKey: unknown): WhopFailure | null {
  return isId(idempotencyKey) ? null : invalidInput("idempotencyKey must be a non-empty string");
}
