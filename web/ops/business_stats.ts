// Business figures for /api/metrics, totals across companies (no per-company labels, so the number of
// series stays bounded by statuses x reasons x channels x currencies). Windows: cases and nudges of
// the last 24 hours, the recovery rate of cases closed in the last 30 days (as the dashboard shows it).
import type { OpsTx } from "./bounded_read.ts";

export interface BusinessStats {
  cases: { status: string; reason: string; count: number }[];
  opened_24h: { reason: string; count: number }[];
  closed_24h: { status: string; reason: string; count: number }[];
  recovered_revenue_24h: { currency: string; amount_minor: number }[];
  recovery_rate_30d: { recovered: number; decided: number };
  nudges_24h: { channel: string; status: string; count: number }[];
  link_clicks_24h: { bot: boolean; count: number }[];
}

export async function readBusinessStats(tx: OpsTx): Promise<BusinessStats> {
  const cases = await tx<BusinessStats["cases"]>`
    select status, reason, count(*)::int as count from public.recovery_cases group by status, reason`;
  const opened = await tx<BusinessStats["opened_24h"]>`
    select reason, count(*)::int as count from public.recovery_cases
    where opened_at > now() - interval '24 hours' group by reason`;
  const closed = await tx<BusinessStats["closed_24h"]>`
    select status, reason, count(*)::int as count from public.recovery_cases
    where closed_at > now() - interval '24 hours' group by status, reason`;
  const revenue = await tx<{ currency: string; amount_minor: string }[]>`
    select currency, sum(recovered_amount_minor) as amount_minor from public.recovery_cases
    where status = 'recovered' and closed_at > now() - interval '24 hours'
      and currency is not null and recovered_amount_minor is not null
    group by currency`;
  const [rate] = await tx<{ recovered: number; decided: number }[]>`
    select count(*) filter (where status = 'recovered')::int as recovered,
           count(*) filter (where status in ('recovered', 'lost', 'expired'))::int as decided
    from public.recovery_cases where closed_at > now() - interval '30 days'`;
  const nudges = await tx<BusinessStats["nudges_24h"]>`
    select channel, status, count(*)::int as count from public.job_queue
    where updated_at > now() - interval '24 hours' and status not in ('pending', 'claimed')
    group by channel, status`;
  const clicks = await tx<BusinessStats["link_clicks_24h"]>`
    select is_bot as bot, count(*)::int as count from public.link_clicks
    where clicked_at > now() - interval '24 hours' group by is_bot`;
  return {
    cases: [...cases],
    opened_24h: [...opened],
    closed_24h: [...closed],
    recovered_revenue_24h: revenue.map((row) => ({
      currency: row.currency,
      amount_minor: Number(row.amount_minor),
    })),
    recovery_rate_30d: rate,
    nudges_24h: [...nudges],
    link_clicks_24h: [...clicks],
  };
}
