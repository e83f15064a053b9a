/**
 * "Outbox rows were committed." The storage service says so after each group commit that
 * wrote events; a trigger relay in the same process (the all-in-one) then stops waiting for
 * its next poll, so an event leaves as soon as its email is stored instead of up to a poll
 * interval later. Separate processes have no signal and the relay polls (TRIGGER_POLL_MS).
 * It carries no data: the relay reads the table as always, so a lost or extra signal costs
 * a poll interval or one empty query, never an event.
 */
export class OutboxSignal {
  readonly #waiting = new Set<() => void>();
  /** A notice that came while nobody waited: the next wait returns at once. */
  #missed = false;

  notify(): void {
    if (this.#waiting.size === 0) {
      this.#missed = true;
      return;
    }
    for (const wake of [...this.#waiting]) wake();
  }

  /** Resolves at the next notice (at once if one came since the last wait) or after `ms`; rejects when `signal` aborts. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.#missed) {
      this.#missed = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiting.delete(done);
        signal?.removeEventListener('abort', aborted);
      };
      const wake = () => {
        done();
        resolve();
      };
      const aborted = () => {
        done();
        reject(signal?.reason as Error);
      };
      const timer = setTimeout(wake, ms);
      this.#waiting.add(wake);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }
}
