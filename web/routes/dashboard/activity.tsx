// Placeholder until its page lands; registers nothing.
import type { Hono } from "hono";
import type { DashboardDeps, DashboardEnv } from "./context.ts";

export function activityRoutes(_app: Hono<DashboardEnv>, _deps: DashboardDeps) {}
