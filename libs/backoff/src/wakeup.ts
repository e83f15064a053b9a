/**
 * Wakes a waiting loop when there is something for it: the trigger relay when storage
 * committed outbox rows in the same process, the events tail when an event arrived. It
 * carries no data — the woken loop looks for itself — so a notice is a shortcut, never the
 * only way work is found: a loop that polls still polls (`wait`'s `ms`). A notice while
 * nobody waits is kept for the next wait (once), so none is lost between a loop's last look
 * and its wait.
 */
export class Wakeup {
  readonly #waiting = new Set<() => void>();
  #missed = false;

  notify(): void {
    if (this.#waiting.size === 0) {
      this.#missed = true;
      return;
    }
    for (const wake of [...this.#waiting]) wake();
  }

  /**
   * Resolves at the next notice (at once if one came since the last wait) or after `ms`
   * (Infinity: no timeout); rejects when `signal` aborts. Leaves no listener behind.
   */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (this.#missed) {
      this.#missed = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiting.delete(wake);
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
      const timer = Number.isFinite(ms) ? setTimeout(wake, ms) : undefined;
      this.#waiting.add(wake);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }
}
