import { randomUUID } from 'node:crypto';
import { TOPICS, type Bus } from '@postbote/bus';
import type { Logger } from '@postbote/logging';
import { ConnectorChanged, ConnectorChanged_Kind } from '@postbote/proto';
import type { ConnectorRecord } from '@postbote/connector-model';
import { connectorToProto } from '@postbote/contract';

export const CONNECTOR_EVENT_CONTENT_TYPE = 'application/x-protobuf; messageType=postbote.v1.ConnectorChanged';

/**
 * Publishes connector changes to the compacted connectors topic. The database is the
 * source of truth: a publish that fails after the commit is retried in the
 * background (latest state per connector wins), and every boot republishes all
 * connectors and recent deletions, so the topic converges even after a crash
 * between commit and publish.
 */
export class ConnectorEventPublisher {
  readonly #pending = new Map<string, ConnectorChanged>();
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
    private readonly now: () => Date,
  ) {}

  upserted(record: ConnectorRecord): Promise<void> {
    return this.#send(
      ConnectorChanged.fromPartial({
        eventId: randomUUID(),
        kind: ConnectorChanged_Kind.UPSERTED,
        connectorId: record.id,
        connector: connectorToProto(record),
        occurredAt: this.now(),
      }),
    );
  }

  deleted(connectorId: string, purgeEmailsNow: boolean): Promise<void> {
    return this.#send(
      ConnectorChanged.fromPartial({ eventId: randomUUID(), kind: ConnectorChanged_Kind.DELETED, connectorId, purgeEmailsNow, occurredAt: this.now() }),
    );
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    if (this.#pending.size > 0) await this.#flush().catch(() => undefined);
  }

  async #send(event: ConnectorChanged): Promise<void> {
    this.#pending.set(event.connectorId, event);
    try {
      await this.#flush();
    } catch (err) {
      this.logger.warn({ err, connectorId: event.connectorId }, 'connector event not published yet; retrying in the background');
      this.#schedule();
    }
  }

  async #flush(): Promise<void> {
    const batch = [...this.#pending.values()];
    if (batch.length === 0) return;
    await this.bus.publish(
      TOPICS.connectors,
      batch.map((e) => ({
        key: e.connectorId,
        value: ConnectorChanged.encode(e).finish(),
        headers: { 'content-type': CONNECTOR_EVENT_CONTENT_TYPE, 'schema-version': '1', 'event-id': e.eventId },
      })),
    );
    // Only drop what was sent; a newer change that arrived meanwhile stays pending.
    for (const e of batch) if (this.#pending.get(e.connectorId) === e) this.#pending.delete(e.connectorId);
    this.#attempt = 0;
  }

  #schedule(): void {
    if (this.#timer) return;
    const delay = Math.min(30_000, 500 * 2 ** this.#attempt++) * (0.5 + Math.random() / 2);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush().catch((err: unknown) => {
        this.logger.warn({ err, pending: this.#pending.size }, 'connector events still not published');
        this.#schedule();
      });
    }, delay);
    this.#timer.unref();
  }
}
