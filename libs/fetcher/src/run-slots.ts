/**
 * Runs at once per workspace, as its quota says (max_concurrent_runs, per fetcher instance;
 * 0 is no limit): a workspace with a thousand slow mailboxes takes its turns among its own
 * connectors and leaves everyone else's runs alone. Waiters are served first come, first
 * served; a waiter whose run is aborted (stop, reconfigure) leaves the queue. A limit read
 * anew at each admission, so a raised or lowered quota takes effect with the next runs.
 */
export class RunSlots {
  readonly #busy = new Map<string, number>();
  readonly #waiting = new Map<string, Array<() => void>>();

  constructor(private readonly limitOf: (workspace: string) => number) {}

  /** Resolves with the release of a slot once one is free; rejects when `signal` aborts first. */
  acquire(workspace: string, signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.#free(workspace) && !(this.#waiting.get(workspace)?.length)) return Promise.resolve(this.#take(workspace));
    return new Promise((resolve, reject) => {
      const admit = () => {
        signal.removeEventListener('abort', onAbort);
        resolve(this.#take(workspace));
      };
      const onAbort = () => {
        const queue = this.#waiting.get(workspace) ?? [];
        const i = queue.indexOf(admit);
        if (i >= 0) queue.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const queue = this.#waiting.get(workspace) ?? [];
      queue.push(admit);
      this.#waiting.set(workspace, queue);
    });
  }

  /** The workspace's limit may have changed: admit whoever now fits. */
  changed(workspace: string): void {
    const queue = this.#waiting.get(workspace);
    while (queue?.length && this.#free(workspace)) queue.shift()?.();
    if (queue?.length === 0) this.#waiting.delete(workspace);
  }

  /** Runs in progress and waiting, per workspace (for status and tests). */
  usage(workspace: string): { running: number; waiting: number } {
    return { running: this.#busy.get(workspace) ?? 0, waiting: this.#waiting.get(workspace)?.length ?? 0 };
  }

  #free(workspace: string): boolean {
    const limit = this.limitOf(workspace);
    return limit === 0 || (this.#busy.get(workspace) ?? 0) < limit;
  }

  #take(workspace: string): () => void {
    this.#busy.set(workspace, (this.#busy.get(workspace) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#busy.get(workspace) ?? 1) - 1;
      if (left > 0) this.#busy.set(workspace, left);
      else this.#busy.delete(workspace);
      this.changed(workspace);
    };
  }
}
