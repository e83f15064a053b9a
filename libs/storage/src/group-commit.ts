import type { Clock } from '@postbote/backoff';

/** Writes a group of items at once; one result (or error) per item, in order. */
export type GroupWriter<I, R> = (items: readonly I[]) => Promise<Array<R | Error>>;

export interface GroupLimits {
  readonly maxItems: number;
  /** Upper bound of the summed weights of a group (one oversized item still goes alone). */
  readonly maxWeight: number;
  /**
   * How long a group may wait for followers while items keep coming (0: never): only a group
   * whose first item arrived while the previous group was being written lingers. On SQLite a
   * commit syncs the disk, so without it a steady stream of emails commits in groups of
   * whatever arrived during one sync; an item that finds the committer idle — a pushed email,
   * the first of a drain — is written at once.
   */
  readonly lingerMs?: number;
}

/**
 * Real time, with the linger's timer keeping the process alive (systemClock's timers do not):
 * items waiting for their group are promised a write.
 */
const lingerClock: Pick<Clock, 'setTimer'> = { setTimer: (ms, fn) => setTimeout(fn, ms) };

interface Waiting<I, R> {
  readonly item: I;
  readonly weight: number;
  resolve(r: R): void;
  reject(e: unknown): void;
}

/**
 * Group commit: items submitted while a group is being written wait and go together in
 * the next one, so N concurrent emails cost one transaction and one sync instead of N,
 * and a lone email still goes at once (no linger, no added latency). Groups are written
 * one after another, in submission order.
 */
export class GroupCommitter<I, R> {
  #queue: Array<Waiting<I, R>> = [];
  #running = false;

  constructor(
    private readonly write: GroupWriter<I, R>,
    private readonly weigh: (item: I) => number,
    private readonly limits: GroupLimits,
    private readonly clock: Pick<Clock, 'setTimer'> = lingerClock,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, weight: this.weigh(item), resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  /** Items waiting for the next group (for tests and metrics). */
  get waiting(): number {
    return this.#queue.length;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      // The first group found the committer idle: it goes at once. Every later one began
      // queueing while a write ran, so more are likely on their way.
      for (let followsWrite = false; this.#queue.length > 0; followsWrite = true) {
        const linger = this.limits.lingerMs ?? 0;
        if (followsWrite && linger > 0 && this.#queue.length < this.limits.maxItems) await new Promise((r) => this.clock.setTimer(linger, () => r(undefined)));
        const group = this.#take();
        let results: Array<R | Error>;
        try {
          results = await this.write(group.map((w) => w.item));
        } catch (err) {
          for (const w of group) w.reject(err);
          continue;
        }
        group.forEach((w, i) => {
          const r = results[i];
          if (r instanceof Error) w.reject(r);
          else if (r === undefined) w.reject(new Error('group writer returned no result for an item'));
          else w.resolve(r);
        });
      }
    } finally {
      this.#running = false;
    }
  }

  #take(): Array<Waiting<I, R>> {
    let weight = 0;
    let n = 0;
    for (const { weight: w } of this.#queue) {
      if (n >= this.limits.maxItems || (n > 0 && weight + w > this.limits.maxWeight)) break;
      weight += w;
      n++;
    }
    return this.#queue.splice(0, n);
  }
}
