// Idempotency-Key support: the first answer for (method, path, key) is stored and replayed for every
// later call with the same key, and a call arriving while the first is still running waits for it, so a
// retried mutation never takes effect twice. 5xx answers are not stored, so a retry after a server
// error really retries. Whop documents no such feature: with the setting `ignore_idempotency_key` the
// pipeline skips this cache and every retry acts again.

export interface StoredAnswer {
  status: number;
  body: string;
  contentType: string;
}

export class IdempotencyCache {
  #done = new Map<string, StoredAnswer>();
  #inFlight = new Map<string, Promise<StoredAnswer>>();

  constructor(readonly capacity = 200_000) {}

  static key(method: string, path: string, idempotencyKey: string): string {
    return `${method.toUpperCase()} ${path} ${idempotencyKey}`;
  }

  /** Runs `produce` once per key; returns its answer plus whether this call was a replay. */
  async run(
    key: string,
    produce: () => Promise<StoredAnswer>,
  ): Promise<{ answer: StoredAnswer; replay: boolean }> {
    const done = this.#done.get(key);
    if (done) return { answer: done, replay: true };
    const running = this.#inFlight.get(key);
    if (running) return { answer: await running, replay: true };

    const promise = produce();
    this.#inFlight.set(key, promise);
    try {
      const answer = await promise;
      if (answer.status < 500) this.#remember(key, answer);
      return { answer, replay: false };
    } finally {
      this.#inFlight.delete(key);
    }
  }

  #remember(key: string, answer: StoredAnswer): void {
    this.#done.set(key, answer);
    if (this.#done.size > this.capacity) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.#done.keys().next().value;
      if (oldest !== undefined) this.#done.delete(oldest);
    }
  }

  get size(): number {
    return this.#done.size;
  }

  clear(): void {
    this.#done.clear();
  }
}
