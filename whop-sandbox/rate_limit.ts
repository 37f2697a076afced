// Optional imitation of Whop's limit of N requests per minute per operation per credential (600 in
// production). Off by default so ordinary tests are not throttled; switched on via /_sandbox/settings.

export class RateLimiter {
  #windows = new Map<string, { start: number; count: number }>();

  /** Counts one call; returns null when allowed, or the seconds until the window resets. */
  hit(credential: string, operation: string, limitPerMinute: number, now = Date.now()): number | null {
    const key = `${credential}\u0000${operation}`;
    let w = this.#windows.get(key);
    if (!w || now - w.start >= 60_000) {
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    if (w.count >= limitPerMinute) return Math.max(1, Math.ceil((w.start + 60_000 - now) / 1000));
    w.count++;
    return null;
  }

  clear(): void {
    this.#windows.clear();
  }
}

/** "POST /api/v1/memberships/mem_abc/cancel" -> "POST /api/v1/memberships/:id/cancel": one operation
 * regardless of which object it touches. Whop ids look like `prefix_rest`. */
export function operationOf(method: string, path: string): string {
  const normalized = path.split("/").map((seg) => (/^[a-z]+_[A-Za-z0-9]+$/.test(seg) ? ":id" : seg)).join(
    "/",
  );
  return `${method.toUpperCase()} ${normalized}`;
}
