import type { Bus } from '@postbote/bus';
import type { Logger } from '@postbote/logging';

interface Pending {
  readonly value: Uint8Array;
  readonly eventId: string;
}

/**
 * Publishes the latest state of things (connectors, workspaces) to a compacted topic, keyed
 * by their id. The database is the source of truth: a publish that fails after the commit
 * is retried in the background (the latest state per key wins), and every boot republishes
 * everything, so the topic converges even after a crash between commit and publish.
 */
export class LatestStatePublisher {
  readonly #pending = new Map<string, Pending>();
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;

  constructor(
    private readonly bus: Bus,
    private readonly topic: string,
    private readonly contentType: string,
    private readonly logger: Logger,
  ) {}

  async send(key: string, value: Uint8Array, eventId: string): Promise<void> {
    this.#pending.set(key, { value, eventId });
    try {
      await this.#flush();
    } catch (err) {
      this.logger.warn({ err, topic: this.topic, key }, 'state event not published yet; retrying in the background');
      this.#schedule();
    }
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    if (this.#pending.size > 0) await this.#flush().catch(() => undefined);
  }

  async #flush(): Promise<void> {
    const batch = [...this.#pending];
    if (batch.length === 0) return;
    await this.bus.publish(
      this.topic,
      batch.map(([key, e]) => ({ key, value: e.value, headers: { 'content-type': this.contentType, 'schema-version': '1', 'event-id': e.eventId } })),
    );
    // Only drop what was sent; a newer change that arrived meanwhile stays pending.
    for (const [key, e] of batch) if (this.#pending.get(key) === e) this.#pending.delete(key);
    this.#attempt = 0;
  }

  #schedule(): void {
    if (this.#timer) return;
    const delay = Math.min(30_000, 500 * 2 ** this.#attempt++) * (0.5 + Math.random() / 2);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush().catch((err: unknown) => {
        this.logger.warn({ err, topic: this.topic, pending: this.#pending.size }, 'state events still not published');
        this.#schedule();
      });
    }, delay);
    this.#timer.unref();
  }
}
