// The dashboard's ops endpoints, over HTTP as an operator would call them: /api/health (no auth)
// and /api/alerts (bearer OPS_TOKEN). Neither being there is an answer too ("unreachable", or the
// HTTP status), never a crash.
import { envOrLocalStack } from "../lib/stack_env.ts";
import { THRESHOLDS } from "./thresholds.ts";

export interface OpsAnswer {
  url: string;
  /** HTTP status, or null when nothing answered. */
  status: number | null;
  body: Record<string, unknown> | null;
  /** Why there is no usable answer: "unreachable (...)", "HTTP 404", "not JSON". */
  problem?: string;
}

export interface AlertsBody {
  evaluated_at?: string;
  firing?: string[];
  alerts?: {
    id: string;
    severity: string;
    summary: string;
    firing: boolean;
    value?: unknown;
    threshold?: unknown;
  }[];
}

/** DASHBOARD_URL, else the local stack's (.local/stack.env), else the default local address. */
export const dashboardUrl = async () =>
  ((await envOrLocalStack("DASHBOARD_URL"))?.trim() || "http://127.0.0.1:8000").replace(/\/+$/, "");

async function getJson(path: string, headers: Record<string, string> = {}): Promise<OpsAnswer> {
  const url = `${await dashboardUrl()}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(THRESHOLDS.httpTimeoutMs) });
  } catch (error) {
    const reason = (error as Error).name === "TimeoutError" ? "timed out" : "connection failed";
    return { url, status: null, body: null, problem: `unreachable (${reason})` };
  }
  const text = await response.text();
  let body: Record<string, unknown> | null = null;
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object") body = parsed;
  } catch {
    // not JSON: reported below
  }
  if (!body) {
    return { url, status: response.status, body: null, problem: `HTTP ${response.status}, not JSON` };
  }
  // /api/health answers 503 with a JSON body when unhealthy: that is an answer, not a problem.
  const problem = response.ok || (response.status === 503 && "status" in body)
    ? undefined
    : `HTTP ${response.status}`;
  return { url, status: response.status, body, problem };
}

export const fetchHealth = () => getJson("/api/health");

export async function fetchAlerts(): Promise<OpsAnswer> {
  const token = (await envOrLocalStack("OPS_TOKEN"))?.trim();
  if (!token) {
    return {
      url: `${await dashboardUrl()}/api/alerts`,
      status: null,
      body: null,
      problem: "not fetched: OPS_TOKEN is not set",
    };
  }
  return await getJson("/api/alerts", { authorization: `Bearer ${token}` });
}

/** One line about /api/health: "ok (HTTP 200)", "unavailable (HTTP 503)", "unreachable (...)". */
export function describeHealth(answer: OpsAnswer): string {
  if (answer.problem) return answer.problem;
  return `${String(answer.body?.status ?? "unknown")} (HTTP ${answer.status})`;
}
