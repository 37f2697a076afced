// POST /notifications, POST /dm_channels, POST /messages: the three calls the app uses to nudge a
// member, and GET /messages, with which it checks whether a DM whose answer was lost did arrive.
// Answers follow the SDK's NotificationCreateResponse, DmChannel, Message and CursorPage types.
import { z } from "zod";
import type { Whop } from "@whop/sdk";
import type { RestApp, SandboxContext } from "./context.ts";
import { jsonResponse, whopError } from "./http.ts";
import { randomId } from "./ids.ts";
import { notFound, parseRequestBody } from "./validation.ts";

const notificationSchema = z.object({
  experience_id: z.string().min(1).nullish(),
  company_id: z.string().min(1).nullish(),
  user_ids: z.array(z.string().min(1)).nullish(),
  title: z.string().min(1),
  content: z.string().min(1),
  subtitle: z.string().nullish(),
  rest_path: z.string().nullish(),
  icon_user_id: z.string().nullish(),
});

const dmChannelSchema = z.object({
  with_user_ids: z.array(z.string().min(1)).min(1),
  company_id: z.string().min(1).nullish(),
  custom_name: z.string().nullish(),
});

const messageSchema = z.object({
  channel_id: z.string().min(1),
  content: z.string().min(1),
  replying_to_message_id: z.string().nullish(),
  auto_detect_links: z.boolean().nullish(),
});

const listQuerySchema = z.object({
  channel_id: z.string().min(1),
  direction: z.enum(["asc", "desc"]).default("asc"),
  first: z.coerce.number().int().min(1).max(100).optional(),
  last: z.coerce.number().int().min(1).max(100).optional(),
  after: z.string().min(1).optional(),
  before: z.string().min(1).optional(),
});

/** A page holds at most this many messages when the call asks for no `first`/`last`. */
const DEFAULT_PAGE_SIZE = 20;

export function registerMessagingRoutes(app: RestApp, ctx: SandboxContext): void {
  const { state } = ctx;

  app.post("/api/v1/notifications", (c) => {
    const parsed = parseRequestBody(c, notificationSchema);
    if (!parsed.ok) return parsed.response;
    const b = parsed.value;
    if (!b.experience_id && !b.company_id) {
      return whopError(422, "invalid_params", "experience_id or company_id is required.");
    }
    state.notifications.push({
      seq: ++state.notificationSeq,
      at: new Date().toISOString(),
      experience_id: b.experience_id ?? null,
      company_id: b.company_id ?? state.experiences.get(b.experience_id ?? "")?.company.id ?? null,
      user_ids: b.user_ids ?? null,
      title: b.title,
      subtitle: b.subtitle ?? null,
      content: b.content,
      rest_path: b.rest_path ?? null,
      icon_user_id: b.icon_user_id ?? null,
    });
    if (state.notifications.length > 200_000) state.notifications.splice(0, 20_000);
    const answer: Whop.NotificationCreateResponse = { success: true };
    return jsonResponse(answer);
  });

  app.post("/api/v1/dm_channels", (c) => {
    const parsed = parseRequestBody(c, dmChannelSchema);
    if (!parsed.ok) return parsed.response;
    const userIds = [...new Set(parsed.value.with_user_ids)].sort();
    const companyId = parsed.value.company_id ?? null;
    // Whop returns the existing channel for the same participants (and company scope).
    for (const record of state.channels.values()) {
      if (record.company_id === companyId && sameIds(record.user_ids, userIds)) {
        return jsonResponse(record.channel);
      }
    }
    const channel: Whop.DmChannel = {
      id: randomId("feed"),
      // The SDK documents this one as milliseconds since the epoch, as a string.
      created_at: String(Date.now()),
      last_message_at: null,
      name: parsed.value.custom_name ?? null,
    };
    state.channels.set(channel.id, { channel, user_ids: userIds, company_id: companyId });
    return jsonResponse(channel);
  });

  app.get("/api/v1/messages", (c) => listMessages(ctx, c.req.query()));

  app.post("/api/v1/messages", (c) => {
    const parsed = parseRequestBody(c, messageSchema);
    if (!parsed.ok) return parsed.response;
    const { channel_id, content } = parsed.value;
    const channel = state.channels.get(channel_id);
    if (!channel && !state.experiences.has(channel_id)) return notFound("Channel", channel_id);
    const now = new Date().toISOString();
    const message: Whop.Message = {
      id: randomId("post"),
      content,
      created_at: now,
      is_edited: false,
      is_pinned: false,
      mentions: [],
      mentions_everyone: false,
      message_type: "regular",
      poll: null,
      poll_votes: [],
      reaction_counts: [],
      replying_to_message_id: parsed.value.replying_to_message_id ?? null,
      updated_at: now,
      user: { ...ctx.agentUser },
      view_count: null,
    };
    if (channel) channel.channel.last_message_at = now;
    state.messages.push({ channel_id, message });
    if (state.messages.length > 200_000) state.messages.splice(0, 20_000);
    return jsonResponse(message);
  });
}

/**
 * `GET /messages?channel_id=…`: the channel's messages sorted by creation time (`direction`, oldest
 * first by default), paged with `first`/`last` and the opaque cursors `after`/`before`
 * (@whop/sdk 0.0.42 MessageListParams). `page_info.end_cursor` is absent on the last page.
 */
function listMessages(ctx: SandboxContext, query: Record<string, string>): Response {
  const { state } = ctx;
  const parsed = listQuerySchema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return whopError(422, "invalid_params", `${issue.path.join(".")}: ${issue.message}`);
  }
  const q = parsed.data;
  if (!state.channels.has(q.channel_id) && !state.experiences.has(q.channel_id)) {
    return notFound("Channel", q.channel_id);
  }
  // Stored in arrival order, which is creation order.
  let items = state.messages.filter((m) => m.channel_id === q.channel_id).map((m) => m.message);
  if (q.direction === "desc") items.reverse();
  const at = (cursor: string) => items.findIndex((m) => m.id === decodeCursor(cursor));
  if (q.after !== undefined) {
    const index = at(q.after);
    items = index < 0 ? [] : items.slice(index + 1);
  }
  if (q.before !== undefined) {
    const index = at(q.before);
    items = index < 0 ? [] : items.slice(0, index);
  }
  let more = false;
  if (q.last !== undefined) {
    items = items.slice(-q.last);
  } else {
    const first = q.first ?? DEFAULT_PAGE_SIZE;
    more = items.length > first;
    items = items.slice(0, first);
  }
  const data = items.map((m) => ({ ...m, user: { ...m.user } }) satisfies Whop.MessageListResponse);
  const page: Whop.CursorPageResponse<Whop.MessageListResponse> = {
    data,
    page_info: more && data.length > 0 ? { end_cursor: encodeCursor(data[data.length - 1].id) } : {},
  };
  return jsonResponse(page);
}

function encodeCursor(id: string): string {
  return btoa(`message:${id}`);
}

function decodeCursor(cursor: string): string {
  try {
    const text = atob(cursor);
    return text.startsWith("message:") ? text.slice("message:".length) : "";
  } catch {
    return "";
  }
}

function sameIds(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
