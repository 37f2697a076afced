// Drives the dispatch-notifications function in-process (its real app, the real test database,
// the running Whop sandbox), and the sandbox's control API.
import { createApp } from "../../supabase/functions/dispatch-notifications/app.ts";
import { connectAsOwner, sandboxControl, stack, stackVar } from "./stack.ts";

export type Sql = ReturnType<typeof connectAsOwner>;
const CRON_SECRET = "test-cron-secret";

export function dispatchEnv(overrides: Record<string, string> = {}) {
  return new Map(Object.entries({
    SUPABASE_DB_URL: stack.databaseUrl,
    CRON_SECRET,
    WHOP_API_KEY: stackVar("WHOP_API_KEY"),
    WHOP_API_BASE_URL: `${stack.sandboxUrl}/api/v1`,
    WHOP_APP_ID: stackVar("WHOP_APP_ID"),
    ENCRYPTION_KEYS: stackVar("ENCRYPTION_KEYS"),
    LINK_SIGNING_KEY: stackVar("LINK_SIGNING_KEY"),
    DASHBOARD_URL: stack.dashboardUrl,
    APP_ENV: "local",
    ...overrides,
  }));
}

export type Counts = Record<string, number>;

/** `dispatch` runs a round and answers its counts (anything but 200 throws); `request` answers the
 * round's raw response. */
export async function withDispatchApp(
  fn: (
    dispatch: (now?: Date) => Promise<Counts>,
    request: (now?: Date) => Promise<Response>,
  ) => Promise<void>,
  overrides: Record<string, string> = {},
  appOptions: Parameters<typeof createApp>[1] = {},
) {
  const { app, close } = await createApp(dispatchEnv(overrides), appOptions);
  const request = (now?: Date) =>
    Promise.resolve(app.fetch(
      new Request("http://functions/dispatch-notifications", {
        method: "POST",
        headers: { authorization: `Bearer ${CRON_SECRET}`, "content-type": "application/json" },
        body: JSON.stringify(now ? { now: now.toISOString() } : {}),
      }),
    ));
  try {
    await fn(async (now) => {
      const response = await request(now);
      const body = await response.json();
      if (response.status !== 200) {
        throw new Error(`dispatch answered ${response.status}: ${JSON.stringify(body)}`);
      }
      return body;
    }, request);
  } finally {
    await close();
  }
}

/** Leaves only this test's jobs in the queue and every breaker closed: queue and breakers are global. */
export async function isolateQueue(sql: Sql, companyPrefix: string) {
  await sql`update public.job_queue set status = 'cancelled', last_error = 'cleared by a test'
            where status in ('pending', 'claimed') and company_id not like ${companyPrefix + "%"}`;
  await sql`update public.circuit_breakers set state = 'closed', consecutive_failures = 0, opened_at = null, retry_at = null`;
}

export interface SandboxCall {
  seq: number;
  method: string;
  path: string;
  body: Record<string, unknown> | null;
  status: number;
  idempotency_key: string | null;
  fault_id: string | null;
  /** When the sandbox answered (ISO time) and how long it took: the call ran from at - duration_ms. */
  at: string;
  duration_ms: number;
}

export const sandbox = {
  calls: async (path?: string): Promise<SandboxCall[]> =>
    (await sandboxControl("GET", `/calls${path ? `?path=${encodeURIComponent(path)}` : ""}`)).calls,
  fault: (fault: Record<string, unknown>) => sandboxControl("POST", "/faults", fault),
  /** Faults still armed (one with `times` is gone once its last call has arrived). */
  faults: async (): Promise<{ id: string }[]> => (await sandboxControl("GET", "/faults")).faults,
  clearFaults: () => sandboxControl("DELETE", "/faults"),
  fixtures: (fixtures: Record<string, unknown>) => sandboxControl("POST", "/fixtures", fixtures),
  settings: (settings: Record<string, unknown>) => sandboxControl("PUT", "/settings", settings),
  state: () => sandboxControl("GET", "/state"),
  /** The DMs the sandbox stored for `userId` (in any channel with them), from its state. */
  messagesTo: async (userId: string): Promise<{ channel_id: string }[]> => {
    const state = await sandboxControl("GET", "/state");
    const channels = new Set(
      state.dm_channels.filter((c: { user_ids: string[] }) => c.user_ids.includes(userId))
        .map((c: { channel: { id: string } }) => c.channel.id),
    );
    return state.messages.filter((m: { channel_id: string }) => channels.has(m.channel_id));
  },
  membership: async (id: string) => {
    const response = await fetch(`${stack.sandboxUrl}/api/v1/memberships/${id}`, {
      headers: { authorization: `Bearer ${stackVar("WHOP_API_KEY")}` },
    });
    return await response.json();
  },
};

/**
 * Whether the sandbox honours Idempotency-Key (its default) or ignores it, as Whop may (no Whop doc
 * mentions the header): dispatch tests run in both, since nothing may depend on it.
 */
export const IDEMPOTENCY_MODES = ["honoured", "ignored"] as const;
export type IdempotencyMode = typeof IDEMPOTENCY_MODES[number];

/** Runs `fn` with the sandbox in `mode`, and puts it back to honouring the key afterwards. */
export async function withIdempotencyMode<T>(mode: IdempotencyMode, fn: () => Promise<T>): Promise<T> {
  await sandbox.settings({ ignore_idempotency_key: mode === "ignored" });
  try {
    return await fn();
  } finally {
    await sandbox.settings({ ignore_idempotency_key: false });
  }
}

/**
 * `count` open cases of a new company, each with one job on `channel` due at `dueAt`; the company
 * has an experience (pushes can go out) and no incentive setting; an incentive job's case grants 3 days.
 * Returns the job ids, oldest first.
 */
export async function makeDueJobs(
  sql: Sql,
  companyId: string,
  channel: "push" | "dm" | "incentive",
  count: number,
  dueAt: Date,
): Promise<number[]> {
  await sql`insert into public.companies (company_id) values (${companyId}) on conflict do nothing`;
  await sql`insert into public.company_settings (company_id, experience_id, incentive_free_days)
            values (${companyId}, 'exp_test', 0) on conflict do nothing`;
  const rows = await sql<{ id: number }[]>`
    with cases as (
      -- With a destination, as a case opened from a membership event has: dispatch alone is measured,
      -- not the one membership lookup a case without one costs (BENCHMARKS.md).
      insert into public.recovery_cases (company_id, membership_id, user_id, reason, opened_at, manage_url,
                                         incentive_free_days)
      select ${companyId}, 'mem_' || b.batch || '_' || n, 'user_' || b.batch || '_' || n, 'payment_failed', ${dueAt},
             'https://whop.com/billing/manage/mem_' || b.batch || '_' || n,
             -- An incentive job is a case's grant of 3 days, already announced (due at dueAt).
             case when ${channel} = 'incentive' then 3 else 0 end
      from generate_series(1, ${count}) n, (select substr(md5(random()::text), 1, 10) as batch) b
      returning id
    )
    insert into public.job_queue (case_id, company_id, channel, step, scheduled_for)
    select id, ${companyId}, ${channel}, 0, ${dueAt} from cases
    returning id`;
  return rows.map((row) => Number(row.id)).sort((a, b) => a - b);
}
