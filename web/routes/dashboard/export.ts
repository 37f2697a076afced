// GET /dashboard/:companyId/export.csv — the cases of the list's current filters and sort as CSV,
// streamed: rows come from a server-side cursor 500 at a time and are written only as fast as the
// client reads, so 100,000 cases take no more memory than 500. Cells are quoted per RFC 4180 and
// defused against formula injection (web/lib/csv.ts). The file reads like the dashboard: statuses and
// reasons in the same words (CaseLabels.tsx), the member's name and email and their cancellation reason
// (their own words) decrypted per row, times in the company's time zone (named in the headers) to the
// minute. An export holds a pool connection while it runs, so it needs an export slot and stops when
// its client stops reading or it runs too long (web/lib/export_limits.ts).
import type { Hono } from "hono";
import { badRequest, serviceUnavailable } from "../../../supabase/functions/_shared/http.ts";
import { currencyExponent } from "../../../supabase/functions/_shared/whop/money.ts";
import { log } from "../../../supabase/functions/_shared/log.ts";
import {
  ATTRIBUTION_WORDS,
  BILLING_REASON_WORDS,
  CANCEL_OPTION_WORDS,
  REASON_WORDS,
  statusWords,
  words,
} from "../../components/cases/CaseLabels.tsx";
import { csvRow, UTF8_BOM } from "../../lib/csv.ts";
import type { ReleaseSlot } from "../../lib/export_limits.ts";
import { withTenant } from "../../lib/tenant.ts";
import { type CaseFilters, parseCaseQuery } from "../../queries/case_filters.ts";
import type { Viewer } from "../../lib/whop_auth.ts";
import { decryptEventField, type DecryptFailures, decryptMemberField } from "../../queries/case_member.ts";
import { prepareExport } from "../../queries/case_export.ts";
import { type CaseExportRow, exportCasesQuery, searchIndexes } from "../../queries/cases.ts";
import type { DashboardDeps, DashboardEnv } from "./context.ts";

/**
 * The header row. Creators build spreadsheets on these names and positions: a new column goes at the
 * end. Amounts are plain decimals ("29.99") beside an ISO currency code rather than "$29.99": a
 * spreadsheet sums, sorts and charts a plain number in any locale, while "$29.99" is a number only
 * where the locale's currency is the dollar (text elsewhere), and "$" alone does not tell USD from CAD
 * or AUD in a company that sells in several currencies.
 */
export function csvHeader(timeZone: string): string[] {
  return [
    "Case ID",
    "Member name",
    "Email",
    "Product",
    "Status",
    "Reason",
    `Opened (${timeZone})`,
    `Closed (${timeZone})`,
    "Amount at risk",
    "Recovered amount",
    "Currency",
    "Attribution",
    "Nudges sent",
    `Last nudge (${timeZone})`,
    "Billing reason",
    "Failure message",
    "Cancellation reason",
    "Member's own words",
    "Membership ID",
  ];
}

const BATCH_ROWS = 500;
/** Chunks (batches of rows) buffered ahead of a slow reader before the cursor waits. */
const BUFFERED_BATCHES = 2;

export function exportRoutes(app: Hono<DashboardEnv>, deps: DashboardDeps) {
  app.get("/dashboard/:companyId/export.csv", async (c) => {
    const viewer = c.get("viewer");
    const parsed = parseCaseQuery(new URL(c.req.url).searchParams, {
      ring: deps.ring,
      companyId: viewer.companyId,
    });
    // The cursor is the list's page position; a download is always the whole selection.
    delete parsed.errors.cursor;
    const problems = Object.values(parsed.errors);
    if (problems.length > 0) throw badRequest(`The CSV could not be made: ${problems.join(" ")}`);

    const release = await deps.exports.slots.acquire(viewer.companyId);
    let csv: CasesCsv;
    try {
      csv = await casesCsvStream(deps, viewer, parsed.filters, release);
    } catch (error) {
      release();
      throw error;
    }
    const { body, timeZone } = csv;
    const day = companyDay(timeZone);
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

/** Today in the company's time zone, YYYY-MM-DD, for the file name. */
function companyDay(timeZone: string): string {
  try {
    return new Intl.DateTimeFormat("en-CA", { timeZone }).format(new Date());
  } catch {
    // A zone Postgres knows and Intl does not (settings only offer Intl's): the UTC day.
    return new Date().toISOString().slice(0, 10);
  }
}

interface CasesCsv {
  body: ReadableStream<Uint8Array>;
  /** The company's time zone, which the file's times are in. */
  timeZone: string;
}

/** Why an export stopped before its last row. */
type Stop = "cancelled" | "idle" | "too_long";

const STOP_WORDS: Record<Exclude<Stop, "cancelled">, string> = {
  idle: "the client stopped reading",
  too_long: "it ran longer than allowed",
};

/**
 * The CSV as a stream fed by a server-side cursor inside the tenant transaction. It resolves once the
 * first batch is in hand, so a database that is down gives an error page rather than a cut-off 200;
 * after that, the cursor only reads on when the client has taken what was sent (backpressure). A
 * cancelled download, a client that has not read for the idle timeout and an export past its overall
 * timeout all close the cursor and end the transaction; the last two also cut the response off, so
 * the client sees a failed download rather than a file that looks complete. The slot is given back
 * once the transaction has ended, when the connection is back in the pool.
 */
async function casesCsvStream(
  deps: DashboardDeps,
  viewer: Viewer,
  filters: CaseFilters,
  release: ReleaseSlot,
): Promise<CasesCsv> {
  const { idleMs, maxMs } = deps.exports.timeouts;
  const emailIndexes = searchIndexes(filters, deps.ring, viewer.companyId);
  const encoder = new TextEncoder();
  const failures: DecryptFailures = { count: 0, reason: null };
  let stopped: Stop | null = null;
  /** Why the rows ended early; null when every row was written (a timer may fire after that). */
  let cutShort: Stop | null = null;
  let wake: (() => void) | null = null;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const resume = () => {
    clearTimeout(idleTimer);
    idleTimer = undefined;
    const wakeUp = wake;
    wake = null;
    wakeUp?.();
  };
  const stop = (reason: Stop) => {
    stopped ??= reason;
    resume();
  };
  const overallTimer = setTimeout(() => stop("too_long"), maxMs);
  const readerCaughtUp = (controller: ReadableStreamDefaultController<Uint8Array>) =>
    new Promise<void>((resolve) => {
      if (stopped || (controller.desiredSize ?? 1) > 0) return resolve();
      wake = resolve;
      idleTimer = setTimeout(() => stop("idle"), idleMs);
    });
  let firstBatch!: { resolve: () => void; reject: (error: unknown) => void };
  const ready = new Promise<void>((resolve, reject) => firstBatch = { resolve, reject });
  let timeZone = "UTC";

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      withTenant(deps.sql, viewer, async (tx) => {
        timeZone = await prepareExport(tx, viewer.companyId);
        // The byte order mark makes Excel read the file as UTF-8 (names with accents, the status's dash);
        // other spreadsheets and CSV readers skip it.
        controller.enqueue(encoder.encode(UTF8_BOM + csvRow(csvHeader(timeZone))));
        const batches = exportCasesQuery(tx, viewer.companyId, filters, emailIndexes, timeZone)
          .cursor(BATCH_ROWS)[Symbol.asyncIterator]();
        // The next batch is fetched while this one is decrypted and written.
        let next = batches.next();
        for (let batch = await next; !batch.done; batch = await next) {
          if (stopped) {
            cutShort = stopped;
            await batches.return?.();
            break;
          }
          next = batches.next();
          const rows = batch.value;
          const lines = await Promise.all(rows.map((row) => csvLine(row, viewer.companyId, deps, failures)));
          // Stopped meanwhile (a cancelled stream takes nothing more): the next turn closes the cursor.
          if (stopped) continue;
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
          if (stopped === "cancelled") return; // nobody reads it any more
          if (cutShort === null) controller.close();
          else {
            const why = STOP_WORDS[cutShort as Exclude<Stop, "cancelled">];
            log.warn(`case export stopped: ${why}`, { company_id: viewer.companyId });
            controller.error(new Error(`the export stopped: ${why}`));
          }
        },
        (error) => {
          firstBatch.reject(error);
          log.error("case export failed", { company_id: viewer.companyId, error });
          if (stopped !== "cancelled") controller.error(error);
        },
      ).finally(() => {
        clearTimeout(overallTimer);
        clearTimeout(idleTimer);
        release();
      });
    },
    pull: resume,
    cancel() {
      stop("cancelled");
    },
  }, { highWaterMark: BUFFERED_BATCHES });

  try {
    await ready;
  } catch {
    await body.cancel().catch(() => {});
    throw serviceUnavailable("The CSV could not be made just now. Please try again in a moment.");
  }
  return { body, timeZone };
}

async function csvLine(
  row: CaseExportRow,
  companyId: string,
  deps: DashboardDeps,
  failures: DecryptFailures,
): Promise<string> {
  const [name, email, cancellationWords] = await Promise.all([
    decryptMemberField(deps.ring, companyId, row.user_id, "name", row.name_ciphertext, failures),
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
    name,
    email,
    row.product_title,
    statusWords(row.status, row.closed_by),
    inWords(REASON_WORDS, row.reason),
    row.opened_local,
    row.closed_local,
    decimalAmount(row.amount_at_risk_minor, row.currency),
    decimalAmount(row.recovered_amount_minor, row.currency),
    row.currency?.toUpperCase(),
    inWords(ATTRIBUTION_WORDS, row.attribution),
    row.nudges_sent,
    row.last_nudge_local,
    inWords(BILLING_REASON_WORDS, row.billing_reason),
    row.failure_message,
    inWords(CANCEL_OPTION_WORDS, row.cancel_option),
    cancellationWords,
    row.membership_id,
  ]);
}

/** A code in the dashboard's words; an empty cell (not the pages' "—") when there is none, so a
 * spreadsheet's filter shows it as blank. */
const inWords = (map: Record<string, string>, code: string | null) => code ? words(map, code) : null;

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
