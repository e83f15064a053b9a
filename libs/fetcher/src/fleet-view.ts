import type { Clock } from '@postbote/backoff';
import { TOPICS, type Bus, type Subscription } from '@postbote/bus';
import type { Logger } from '@postbote/logging';
import { FetcherInstance } from '@postbote/proto';

/**
 * Every fetcher's view of the fleet: each instance publishes its own report (partitions,
 * connectors, states) to a compacted topic every few seconds and reads everyone's. Reports
 * older than three periods are dropped, so a killed instance disappears from the view;
 * a stopping one removes itself at once (tombstone). Reports travel gzip-compressed
 * (COMPRESSED_TOPICS): they grow with the connectors an instance runs.
 */
export class FleetView {
  readonly #others = new Map<string, FetcherInstance>();
  #timer: unknown;
  #stopped = false;
  #sub: Subscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly instanceId: string,
    private readonly everyMs: number,
    private readonly self: () => FetcherInstance,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.bus.ensureTopics([{ topic: TOPICS.fetchers, compacted: true }]);
    // A group of its own per instance: every fetcher reads every report.
    this.#sub = await this.bus.subscribe({ topic: TOPICS.fetchers, groupId: `postbote-fleet-${this.instanceId}`, fromBeginning: true }, async (m) => {
      if (m.key === this.instanceId) return;
      if (!m.value || m.value.length === 0) this.#others.delete(m.key);
      else this.#others.set(m.key, FetcherInstance.decode(m.value));
    });
    const publish = () =>
      this.bus
        .publish(TOPICS.fetchers, [{ key: this.instanceId, value: FetcherInstance.encode(this.self()).finish(), headers: {} }])
        .catch((err: unknown) => this.logger.warn({ err: { message: (err as Error).message } }, 'fleet report not published'));
    const every = async () => {
      await publish();
      if (!this.#stopped) this.#timer = this.clock.setTimer(this.everyMs, () => void every());
    };
    await every();
  }

  instances(): FetcherInstance[] {
    const cutoff = this.clock.now() - 3 * this.everyMs;
    const others = [...this.#others.values()].filter((i) => (i.reportedAt?.getTime() ?? 0) >= cutoff);
    return [this.self(), ...others].sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.clock.clearTimer(this.#timer);
    await this.bus.publish(TOPICS.fetchers, [{ key: this.instanceId, value: null, headers: {} }]).catch(() => undefined);
    await this.#sub?.close();
  }
}
