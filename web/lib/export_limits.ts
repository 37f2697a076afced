// How much of the dashboard a CSV export may take (issue 11 item 6). A streamed export keeps one
// connection of the dashboard's pool for as long as it runs, and it runs only as fast as its client
// reads, so without limits a dozen downloads nobody reads hold the whole pool and every other
// company's pages wait. Hence:
// - export slots: at most EXPORT_SLOTS exports at once in this process (fewer than the pool has
//   connections, so pages always have the rest) and one per company; a request waits briefly for a
//   slot, then is refused (429: this company's export is running; 503: all slots are busy);
// - an idle timeout (the client has not taken the last batch for DASHBOARD_EXPORT_IDLE_SECONDS) and an
//   overall one (DASHBOARD_EXPORT_MAX_SECONDS): the download is cut off and the connection released.
// The slots are in-process: the dashboard is one process, with one pool.
import { type EnvReader, readPositiveNumber } from "../../supabase/functions/_shared/config.ts";
import { HttpError } from "../../supabase/functions/_shared/http.ts";

export interface ExportTimeouts {
  /** The client has not read for this long: the export stops. */
  idleMs: number;
  /** However fast it is read, an export stops after this long. */
  maxMs: number;
}

export const DEFAULT_EXPORT_IDLE_SECONDS = 20;
export const DEFAULT_EXPORT_MAX_SECONDS = 300;

export function readExportTimeouts(env: EnvReader): ExportTimeouts {
  return {
    idleMs: readPositiveNumber(env, "DASHBOARD_EXPORT_IDLE_SECONDS", DEFAULT_EXPORT_IDLE_SECONDS) * 1000,
    maxMs: readPositiveNumber(env, "DASHBOARD_EXPORT_MAX_SECONDS", DEFAULT_EXPORT_MAX_SECONDS) * 1000,
  };
}

export interface ExportSlotLimits {
  total: number;
  perCompany: number;
  /** How long a request waits for a slot before it is refused (a re-download just after a cancel). */
  waitMs: number;
}

/** Gives back a slot; calling it again does nothing. */
export type ReleaseSlot = () => void;

export class ExportSlots {
  #running = 0;
  readonly #byCompany = new Map<string, number>();
  readonly #waiters = new Set<() => void>();

  constructor(readonly limits: ExportSlotLimits) {
    if (limits.total < 1 || limits.perCompany < 1) throw new Error("export slots: limits must be at least 1");
  }

  /** A slot for an export of `companyId`, or a 429/503 HttpError once none freed up in time. */
  async acquire(companyId: string): Promise<ReleaseSlot> {
    const deadline = Date.now() + this.limits.waitMs;
    while (!this.#hasRoom(companyId)) {
      const left = deadline - Date.now();
      if (left <= 0) throw this.#refusal(companyId);
      await this.#released(left);
    }
    this.#running++;
    this.#byCompany.set(companyId, (this.#byCompany.get(companyId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      const left = (this.#byCompany.get(companyId) ?? 1) - 1;
      if (left > 0) this.#byCompany.set(companyId, left);
      else this.#byCompany.delete(companyId);
      const waiters = [...this.#waiters];
      this.#waiters.clear();
      for (const wake of waiters) wake();
    };
  }

  /** Exports running now, overall and for one company. */
  running(companyId?: string): number {
    return companyId === undefined ? this.#running : this.#byCompany.get(companyId) ?? 0;
  }

  #hasRoom(companyId: string): boolean {
    return this.#running < this.limits.total && this.running(companyId) < this.limits.perCompany;
  }

  /** Resolves when any slot is given back, or after `ms`. */
  #released(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        resolve();
      }, ms);
      this.#waiters.add(wake);
    });
  }

  #refusal(companyId: string): HttpError {
    if (this.running(companyId) >= this.limits.perCompany) {
      return new HttpError(
        429,
        "export_running",
        "An export of this company's cases is already running. Wait until it has finished (or cancel it), " +
          "then try again.",
        { "retry-after": "10" },
      );
    }
    return new HttpError(
      503,
      "exports_busy",
      "Too many exports are running right now. Please try again in a minute.",
      { "retry-after": "30" },
    );
  }
}
