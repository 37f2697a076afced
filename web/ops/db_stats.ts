// Connection use: the server's (all clients vs max_connections) and the dashboard pool's own
// connections, told apart by the application name the pool registers with.
import type { OpsTx } from "./bounded_read.ts";

export interface DbStats {
  connections: { used: number; max: number; percent: number };
  pool: { application_name: string; max: number; open: number; active: number; percent: number };
}

export async function readDbStats(
  tx: OpsTx,
  pool: { applicationName: string; max: number },
): Promise<DbStats> {
  const [row] = await tx<{ used: number; max: number; open: number; active: number }[]>`
    select count(*)::int as used, current_setting('max_connections')::int as max,
           count(*) filter (where application_name = ${pool.applicationName})::int as open,
           count(*) filter (where application_name = ${pool.applicationName} and state <> 'idle')::int as active
    from pg_catalog.pg_stat_activity
    where backend_type = 'client backend'`;
  return {
    connections: { used: row.used, max: row.max, percent: percent(row.used, row.max) },
    pool: {
      application_name: pool.applicationName,
      max: pool.max,
      open: row.open,
      active: row.active,
      percent: percent(row.open, pool.max),
    },
  };
}

const percent = (part: number, whole: number) => whole > 0 ? Math.round((part / whole) * 1000) / 10 : 0;
