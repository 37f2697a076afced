// Helpers for the ops endpoint tests: a TCP proxy in front of the test database that can forward,
// refuse (the database is down) or swallow connections (the database hangs), the dashboard app on
// top of it, a parser of the Prometheus text format, and fixtures of a company of its own.
import { createApp } from "../../web/app.ts";
import { connectAsOwner, dashboardEnv, stack, stackVar } from "./stack.ts";

export type OwnerSql = ReturnType<typeof connectAsOwner>;
export type ProxyMode = "forward" | "refuse" | "hang";

/** A fault injector on the network path to Postgres; the URL stays the same across modes. Refusing
 * closes the port (connection refused, as a stopped server); hanging accepts and never answers. */
export class TcpProxy {
  mode: ProxyMode = "forward";
  readonly port: number;
  readonly #target: { hostname: string; port: number };
  readonly #open = new Set<Deno.TcpConn>();
  readonly #tasks = new Set<Promise<unknown>>();
  #listener: Deno.TcpListener | null = null;

  constructor(target: { hostname: string; port: number }) {
    this.#target = target;
    this.#listen(0);
    this.port = (this.#listener!.addr as Deno.NetAddr).port;
  }

  /** `databaseUrl` with its host and port replaced by the proxy's. */
  url(databaseUrl = stack.databaseUrl): string {
    const url = new URL(databaseUrl);
    url.hostname = "127.0.0.1";
    url.port = String(this.port);
    return url.toString();
  }

  /** Switches mode; connections opened before are cut, as a stopped or restarted server would. */
  setMode(mode: ProxyMode) {
    this.mode = mode;
    for (const conn of this.#open) this.#closeQuietly(conn);
    this.#open.clear();
    if (mode === "refuse") {
      this.#listener?.close();
      this.#listener = null;
    } else if (!this.#listener) {
      this.#listen(this.port);
    }
  }

  async close() {
    this.setMode("refuse");
    await Promise.allSettled([...this.#tasks]);
  }

  #listen(port: number) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port });
    this.#listener = listener;
    this.#track(this.#accept(listener));
  }

  #track(task: Promise<unknown>) {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #accept(listener: Deno.TcpListener) {
    try {
      for await (const conn of listener) {
        this.#open.add(conn);
        if (this.mode === "forward") this.#track(this.#forward(conn));
        // "hang": held open, never answered
      }
    } catch {
      // the listener was closed
    }
  }

  async #forward(conn: Deno.TcpConn) {
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect(this.#target);
    } catch {
      this.#closeQuietly(conn);
      return;
    }
    this.#open.add(upstream);
    await Promise.allSettled([
      conn.readable.pipeTo(upstream.writable),
      upstream.readable.pipeTo(conn.writable),
    ]);
    this.#closeQuietly(conn);
    this.#closeQuietly(upstream);
    this.#open.delete(conn);
    this.#open.delete(upstream);
  }

  #closeQuietly(conn: Deno.TcpConn) {
    try {
      conn.close();
    } catch {
      // already closed by a pipe
    }
  }
}

export function databaseTarget() {
  const url = new URL(stack.databaseUrl);
  return { hostname: url.hostname, port: Number(url.port || 5432) };
}

export interface OpsApp {
  get(path: string, token?: string | null): Promise<Response>;
  json(
    path: string,
    token?: string | null,
  ): Promise<{ status: number; body: Record<string, unknown>; ms: number }>;
  close(): Promise<void>;
}

/** The dashboard app in-process with `overrides` on the stack's configuration. */
export async function opsApp(overrides: Record<string, string> = {}): Promise<OpsApp> {
  const { app, close } = await createApp(dashboardEnv(overrides));
  const get = (path: string, token: string | null = stackVar("OPS_TOKEN")) =>
    Promise.resolve(app.fetch(
      new Request(`http://dashboard${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} }),
    ));
  return {
    get,
    async json(path, token) {
      const started = performance.now();
      const response = await get(path, token);
      const text = await response.text();
      const ms = performance.now() - started;
      try {
        return { status: response.status, body: JSON.parse(text), ms };
      } catch {
        throw new Error(`${path} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`);
      }
    },
    close,
  };
}

export interface AlertJson {
  id: string;
  severity: string;
  summary: string;
  firing: boolean;
  value: number | null;
  threshold: number;
  evidence: Record<string, unknown>;
}

export async function alerts(app: OpsApp) {
  const { status, body } = await app.json("/api/alerts");
  if (status !== 200) throw new Error(`/api/alerts answered ${status}: ${JSON.stringify(body)}`);
  return body as unknown as { evaluated_at: string; firing: string[]; alerts: AlertJson[] };
}

export async function alert(app: OpsApp, id: string): Promise<AlertJson & { listed: boolean }> {
  const report = await alerts(app);
  const found = report.alerts.find((a) => a.id === id);
  if (!found) throw new Error(`no alert ${id}`);
  return { ...found, listed: report.firing.includes(id) };
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedExposition {
  help: Map<string, string>;
  type: Map<string, string>;
  samples: Sample[];
}

/** A strict parser of the Prometheus text format 0.0.4 (throws on what it does not understand). */
export function parseExposition(text: string): ParsedExposition {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: Sample[] = [];
  const unescape = (value: string) =>
    value.replace(
      /\\(.)/g,
      (_, c: string) => (c === "n" ? "\n" : c === "\\" ? "\\" : c === '"' ? '"' : `\\${c}`),
    );
  for (const line of text.split("\n")) {
    if (line === "") continue;
    let match = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (match) {
      if (help.has(match[1])) throw new Error(`second HELP for ${match[1]}`);
      help.set(match[1], match[2].replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c)));
      continue;
    }
    match = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (match) {
      if (type.has(match[1])) throw new Error(`second TYPE for ${match[1]}`);
      type.set(match[1], match[2]);
      continue;
    }
    match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    if (match[2]) {
      const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
      let rest = 0;
      while (rest < match[2].length) {
        pair.lastIndex = rest;
        const p = pair.exec(match[2]);
        if (!p) throw new Error(`bad labels in: ${line}`);
        labels[p[1]] = unescape(p[2]);
        rest = pair.lastIndex;
      }
    }
    const raw = match[3];
    const value = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    if (Number.isNaN(value) && raw !== "NaN") throw new Error(`bad value in: ${line}`);
    samples.push({ name: match[1], labels, value });
  }
  return { help, type, samples };
}

/** The value of the one sample with this name and these labels (throws when absent). */
export function sampleValue(
  parsed: ParsedExposition,
  name: string,
  labels: Record<string, string> = {},
): number {
  const found = parsed.samples.filter((s) =>
    s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value)
  );
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`);
  return found[0].value;
}

/** A company of the test's own (`biz_ops_test_...`) with a case to hang jobs on; deleted by `cleanup`. */
export async function opsCompany(sql: OwnerSql) {
  const companyId = `biz_ops_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  await sql`insert into public.companies (company_id, title) values (${companyId}, 'Ops test')`;
  await sql`insert into public.company_settings (company_id) values (${companyId})`;
  const [row] = await sql<{ id: string }[]>`
    insert into public.recovery_cases (company_id, membership_id, reason, opened_at)
    values (${companyId}, ${`mem_${companyId}`}, 'payment_failed', now() - interval '1 day') returning id`;
  let n = 0;
  return {
    companyId,
    caseId: row.id,
    /** Due jobs scheduled `agoSeconds` ago, status pending. */
    async addDueJobs(count: number, agoSeconds: number) {
      await sql`
        insert into public.job_queue (case_id, company_id, channel, step, origin, scheduled_for)
        select ${row.id}, ${companyId}, 'dm', 0, 'manual', now() - make_interval(secs => ${agoSeconds})
        from generate_series(1, ${count})`;
    },
    /** An event received `agoSeconds` ago; processed `processedAfterSeconds` later, or never (null). */
    async addEvent(agoSeconds: number, processedAfterSeconds: number | null = 0) {
      const id = `msg_ops_test_${companyId}_${++n}`;
      await sql`
        insert into public.events (id, company_id, type, raw_type, api_version, occurred_at, received_at, processed_at)
        values (${id}, ${companyId}, 'payment.succeeded', 'payment.succeeded', 'v1',
                now() - make_interval(secs => ${agoSeconds}), now() - make_interval(secs => ${agoSeconds}),
                case when ${processedAfterSeconds}::float8 is null then null
                     else now() - make_interval(secs => ${agoSeconds}) + make_interval(secs => ${processedAfterSeconds}) end)`;
      return id;
    },
    async cleanup() {
      await sql`delete from public.companies where company_id = ${companyId}`;
    },
  };
}

/** The flags as they are, to put back after a test that changes them. */
export async function saveFlags(sql: OwnerSql) {
  const rows = await sql<
    { name: string; enabled: boolean; rollout_percent: number; company_allowlist: string[] }[]
  >`
    select name, enabled, rollout_percent, company_allowlist from public.feature_flags`;
  return async () => {
    for (const row of rows) {
      await sql`update public.feature_flags set enabled = ${row.enabled}, rollout_percent = ${row.rollout_percent},
                company_allowlist = ${row.company_allowlist}, updated_by = 'test', updated_at = now()
                where name = ${row.name}`;
    }
  };
}

export { connectAsOwner, stackVar };
