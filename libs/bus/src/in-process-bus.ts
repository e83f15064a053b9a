import type { Bus, BusMessage, DeliveredMessage, MessageHandler, SubscribeOptions, Subscription, TopicSpec } from './bus';

interface Topic {
  readonly compacted: boolean;
  /** Retained records; compacted topics keep the latest per key. */
  log: DeliveredMessage[];
  nextOffset: number;
  readonly groups: Map<string, Group>;
}

interface Group {
  readonly name: string;
  readonly handler: MessageHandler;
  /** Offset of the next record this group will see. */
  position: number;
  running: Promise<void>;
  closed: boolean;
  /** Failures of the record at the head in a row (the retry delay grows with them). */
  failures: number;
}

export interface InProcessBusOptions {
  /** Records a non-compacted topic keeps for late subscribers that ask for the beginning. */
  readonly retain?: number;
  /** Hears each failed delivery (it is retried, with growing delays). */
  readonly onHandlerError?: (err: unknown, m: DeliveredMessage, group: string, retryInMs: number) => void;
}

/**
 * The embedded default's bus: one partition per topic, kept in memory, delivered
 * to each group strictly in order, one record at a time. Non-compacted topics keep
 * at most `retain` records for late subscribers that ask for the beginning.
 */
export class InProcessBus implements Bus {
  readonly kind = 'in-process' as const;
  readonly #topics = new Map<string, Topic>();
  #closed = false;

  constructor(private readonly options: InProcessBusOptions = {}) {}

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    for (const spec of specs) this.#topic(spec.topic, spec.compacted ?? false);
  }

  async publish(topic: string, messages: readonly BusMessage[]): Promise<void> {
    if (this.#closed) throw new Error('bus is closed');
    const t = this.#topic(topic, false);
    for (const m of messages) {
      const delivered: DeliveredMessage = { ...m, topic, partition: 0, offset: String(t.nextOffset++) };
      if (t.compacted) t.log = t.log.filter((x) => x.key !== m.key);
      t.log.push(delivered);
    }
    const retain = this.options.retain ?? 10_000;
    if (!t.compacted && t.log.length > retain) t.log.splice(0, t.log.length - retain);
    for (const g of t.groups.values()) this.#drain(t, g);
  }

  async subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription> {
    const t = this.#topic(options.topic, false);
    if (t.groups.has(options.groupId)) throw new Error(`group ${options.groupId} already consumes ${options.topic} in this process`);
    const group: Group = { name: options.groupId, handler, position: options.fromBeginning ? 0 : t.nextOffset, running: Promise.resolve(), closed: false, failures: 0 };
    t.groups.set(options.groupId, group);
    // One process, one partition: the only member owns everything.
    await options.ownership?.assigned([0]);
    this.#drain(t, group);
    return {
      close: async () => {
        group.closed = true;
        t.groups.delete(options.groupId);
        await group.running;
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const pending: Promise<void>[] = [];
    for (const t of this.#topics.values()) {
      for (const g of t.groups.values()) {
        g.closed = true;
        pending.push(g.running);
      }
      t.groups.clear();
    }
    await Promise.all(pending);
  }

  #topic(name: string, compacted: boolean): Topic {
    let t = this.#topics.get(name);
    if (!t) {
      t = { compacted, log: [], nextOffset: 0, groups: new Map() };
      this.#topics.set(name, t);
    }
    return t;
  }

  // Chains one drain after another so a group never runs two handlers at once.
  #drain(t: Topic, g: Group): void {
    g.running = g.running.then(async () => {
      while (!g.closed) {
        const next = firstFrom(t.log, g.position);
        if (!next) return;
        try {
          await g.handler(next);
          g.position = Number(next.offset) + 1;
          g.failures = 0;
        } catch (err) {
          // At-least-once: the record stays at the head for this group. Redelivery waits
          // for the next publish or a growing timer (1 s doubling to 60 s), so a poison
          // record cannot spin, and every failure is reported.
          const delay = Math.min(60_000, 1_000 * 2 ** g.failures++);
          this.options.onHandlerError?.(err, next, g.name, delay);
          setTimeout(() => this.#drain(t, g), delay).unref();
          return;
        }
      }
    });
  }
}

/** The first record at or after `position` (the log is in offset order). */
function firstFrom(log: readonly DeliveredMessage[], position: number): DeliveredMessage | undefined {
  let lo = 0;
  let hi = log.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Number(log[mid]?.offset) < position) lo = mid + 1;
    else hi = mid;
  }
  return log[lo];
}
