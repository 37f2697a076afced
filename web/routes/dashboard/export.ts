// GET /dashboard/:companyId/export.csv — the cases of the list's current filters and sort as CSV,
// streamed: rows come from a server-side cursor 500 at a time and are written only as fast as the
// client reads, so 100,000 cases take no more memory than 500. Cells are quoted per RFC 4180 and
// defused against formula injection (web/lib/csv.ts). The member's email and cancellation reason (their
// own words) are decrypted per row. New columns go at the end, so spreadsheets built on the file keep
// working.
import type { Hono } from "hono";
import { badRequest, serviceUnavailable } from "../../../supabase/functions/_shared/http.ts";
import { currencyExponent } from "../../../supabase/functions/_shared/whop/money.ts";
import { log } from "../../../supabase/functions/_shared/log.ts";
import { csvRow } from "../../lib/csv.ts";
import { withTenant } from "../../lib/tenant.ts";
import { type CaseFilters, parseCaseQuery } from "../../queries/case_filters.ts";
import type { Viewer } from "../../lib/whop_auth.ts";
import { decryptEventField, type DecryptFailures, decryptMemberField } from "../../queries/case_member.ts";
import { type CaseExportRow, exportCasesQuery, searchIndexes } from "../../queries/cases.ts";
import type { DashboardDeps, DashboardEnv } from "./context.ts";

export const CSV_COLUMNS = [
  "case_id",
  "status",
  "reason",
  "membership_id",
  "member_email",
  "opened_at",
  "closed_at",
  "amount_at_risk",
  "recovered_amount",
  "currency",
  "attribution",
  // `refund` or `dispute` when one ended a lost case.
  "closed_by",
  "billing_reason",
  "failure_message",
  "cancellation_reason",
] as const;

const BATCH_ROWS = 500;
/** Chunks (batches of rows) buffered ahead of a slow reader before the cursor waits. */
const BUFFERED_BATCHES = 2;

export function exportRoutes(app: Hono<DashboardEnv>, deps: DashboardDeps) {
  app.get("/dashboard/:companyId/export.csv", async (c) => {
    const viewer = c.get("viewer");
    const parsed = await parseCaseQuery(new URL(c.req.url).searchParams, {
      ring: deps.ring,
      companyId: viewer.companyId,
    });
    // The cursor is the list's page position; a download is always the whole selection.
    delete parsed.errors.cursor;
    const problems = Object.values(parsed.errors);
    if (problems.length > 0) throw badRequest(`The CSV could not be made: ${problems.join(" ")}`);

    const body = await casesCsvStream(deps, viewer, parsed.filters);
    const day = new Date().toISOString().slice(0, 10);
    return new Response(body, {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="cases-${viewer.companyId}-${day}.csv"`,
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      },
    });
  });
}

/**
 * The CSV as a stream fed by a server-side cursor inside the tenant transaction. It resolves once the
 * first batch is in hand, so a database that is down gives an error page rather than a cut-off 200;
 * after that, the cursor only reads on when the client has taken what was sent (backpressure), and
 * a cancelled download closes the cursor and ends the transaction.
 */
async function casesCsvStream(deps: DashboardDeps, viewer: Viewer, filters: CaseFilters) {
  const emailIndexes = await searchIndexes(filters, deps.ring);
  const encoder = new TextEncoder();
  const failures: DecryptFailures = { count: 0, reason: null };
  let cancelled = false;
  let wake: (() => void) | null = null;
  const resume = () => {
    const wakeUp = wake;
    wake = null;
    wakeUp?.();
  };
  const readerCaughtUp = (controller: ReadableStreamDefaultController<Uint8Array>) =>
    new Promise<void>((resolve) => {
      if (cancelled || (controller.desiredSize ?? 1) > 0) resolve();
      else wake = resolve;
    });
  let firstBatch!: { resolve: () => void; reject: (error: unknown) => void };
  const ready = new Promise<void>((resolve, reject) => firstBatch = { resolve, reject });

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(csvRow(CSV_COLUMNS)));
      withTenant(deps.sql, viewer, async (tx) => {
        const batches = exportCasesQuery(tx, viewer.companyId, filters, emailIndexes)
          .cursor(BATCH_ROWS)[Symbol.asyncIterator]();
        // The next batch is fetched while this one is decrypted and written.
        let next = batches.next();
        for (let batch = await next; !batch.done; batch = await next) {
          if (cancelled) {
            await batches.return?.();
            break;
          }
          next = batches.next();
          const rows = batch.value;
          const lines = await Promise.all(rows.map((row) => csvLine(row, viewer.companyId, deps, failures)));
          controller.enqueue(encoder.encode(lines.join("")));
          firstBatch.resolve();
          await readerCaughtUp(controller);
        }
      }).then(
        () => {
          if (failures.count > 0) {
            log.warn("case export: member fields that did not decrypt were left empty", {
              company_id: viewer.companyId,
              fields: failures.count,
              reason: failures.reason,
            });
          }
          firstBatch.resolve();
          if (!cancelled) controller.close();
        },
        (error) => {
          firstBatch.reject(error);
          log.error("case export failed", { company_id: viewer.companyId, error });
          if (!cancelled) controller.error(error);
        },
      );
    },
    pull: resume,
    cancel() {
      cancelled = true;
      resume();
    },
  }, { highWaterMark: BUFFERED_BATCHES });

  try {
    await ready;
  } catch {
    await body.cancel().catch(() => {});
    throw serviceUnavailable("The CSV could not be made just now. Please try again in a moment.");
  }
  return body;
}

async function csvLine(
  row: CaseExportRow,
  companyId: string,
  deps: DashboardDeps,
  failures: DecryptFailures,
): Promise<string> {
  const [email, cancellationReason] = await Promise.all([
    decryptMemberField(deps.ring, companyId, row.user_id, "email", row.email_ciphertext, failures),
    decryptEventField(
      deps.ring,
      row.cancellation_event_id,
      "cancellation_reason",
      row.cancellation_reason_ciphertext,
      failures,
    ),
  ]);
  return csvRow([
    row.id,
    row.status,
    row.reason,
    row.membership_id,
    email,
    row.opened_at.toISOString(),
    row.closed_at?.toISOString(),
    decimalAmount(row.amount_at_risk_minor, row.currency),
    decimalAmount(row.recovered_amount_minor, row.currency),
    row.currency?.toUpperCase(),
    row.attribution,
    row.closed_by,
    row.billing_reason,
    row.failure_message,
    cancellationReason,
  ]);
}

/** Minor units as a decimal string in the currency's units, from the digits (2999 USD → "29.99"). */
export function decimalAmount(minor: string | null, currency: string | null): string | null {
  if (minor === null) return null;
  let exponent = 2;
  try {
    if (currency) exponent = currencyExponent(currency.toUpperCase());
  } catch {
    // Not an ISO code Intl knows: keep two decimals, the usual minor unit.
  }
  if (exponent === 0) return minor;
  const negative = minor.startsWith("-");
  const digits = (negative ? minor.slice(1) : minor).padStart(exponent + 1, "0");
  return `${negative ? "-" : ""}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}
