import { backoffDelay, sleep, type Wakeup } from '@postbote/backoff';
import type { Logger } from '@postbote/logging';
import type { EventEncoding } from './event-encoding';
import { toRecord } from './event-encoding';
import { recordBytes, type TopicRecord } from '@postbote/bus';
import type { EventSink } from './event-sink';
import type { EventTopics } from './event-topics';
import type { OutboxStore, PendingRow } from './outbox-store';
import { judgePosition, positionTag } from './position-check';
import { triggerMetrics, workspaceLabel } from '@postbote/metrics';

export interface RelayOptions {
  readonly batchSize: number;
  /** How often an idle relay looks for new rows. */
  readonly pollMs: number;
  readonly encoding: EventEncoding;
  /** Where each workspace's events go. */
  readonly topics: EventTopics;
  /** A record larger than this is parked instead of published (TRIGGER_MAX_EVENT_BYTES). */
  readonly maxEventBytes: number;
  /** Storage's notice of new rows, when it runs in this process: an idle relay wakes at once. */
  readonly outboxWritten?: Wakeup | undefined;
}

/** What the relay is doing, for health and tests. */
export type RelayState =
  /** Connecting to the sink and reading its position. */
  | 'STARTING'
  /** Publishing, or waiting for new rows. */
  | 'RUNNING'
  /** The sink or database failed; waiting before a fresh start. */
  | 'BACKOFF'
  | 'STOPPED';

/**
 * Moves outbox rows to the event sink in id order (the storage service commits outbox
 * rows in id order, so "everything up to id N" is a sound position). With a transactional
 * sink the position travels inside each Kafka transaction, and every (re)start first
 * marks everything up to the committed position as published: a crash after commit but
 * before marking republishes nothing. The position is tagged with the database's
 * identity and is only trusted by the database it belongs to (see position-check); for
 * any other the database's own record of what was published decides, at the price of
 * possible duplicates (consumers dedupe on the event id). Memory is bounded by one batch;
 * a slow or absent broker makes the outbox table grow, never this process.
 */
export class OutboxRelay {
  #state: RelayState = 'STOPPED';
  #loop: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(
    private readonly outbox: OutboxStore,
    private readonly sink: EventSink,
    private readonly logger: Logger,
    private readonly options: RelayOptions,
    private readonly now: () => Date = () => new Date(),
  ) {}

  get state(): RelayState {
    return this.#state;
  }

  start(): void {
    if (this.#loop) return;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort(new Error('relay stopped'));
    await this.#loop;
    await this.sink.close();
    this.#state = 'STOPPED';
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let attempt = 0;
    while (!signal.aborted) {
      try {
        this.#state = 'STARTING';
        const databaseId = await this.outbox.identity();
        const position = await this.#resume(databaseId);
        this.#state = 'RUNNING';
        attempt = 0;
        await this.#relay(databaseId, position, signal);
      } catch (err) {
        if (signal.aborted) break;
        this.#state = 'BACKOFF';
        const delay = backoffDelay(attempt++);
        this.logger.warn({ err: { message: (err as Error).message }, retryInMs: delay }, 'event relay failed; retrying');
        await this.sink.close().catch(() => undefined);
        await sleep(delay, signal).catch(() => undefined);
      }
    }
  }

  /** Where to continue: after the committed position if it is this database's, else from the database's own record (-1). */
  async #resume(databaseId: string): Promise<number> {
    const held = await this.sink.start();
    const verdict = judgePosition(held, databaseId, held.offset >= 0 ? await this.outbox.around(held.offset) : { eventId: undefined, pendingUpTo: 0, maxId: -1 });
    if (!verdict.trust) {
      const fields = { position: held.offset, databaseId, code: 'TRIGGER_POSITION_MISMATCH' };
      const what = `${verdict.why}; publishing every outbox row this database has not marked published (consumers dedupe on the event id)`;
      if (verdict.loud) this.logger.error(fields, what);
      else this.logger.info(fields, what);
      return -1;
    }
    if (verdict.note) this.logger.warn({ position: held.offset }, verdict.note);
    const marked = await this.outbox.markPublished(held.offset, this.now());
    if (marked > 0) this.logger.info({ position: held.offset, marked }, 'outbox rows already in the topic marked published');
    return held.offset;
  }

  async #relay(databaseId: string, startPosition: number, signal: AbortSignal): Promise<void> {
    // With a non-transactional sink the position is -1; rows are then found as "pending".
    let after = this.sink.exactlyOnce ? startPosition : -1;
    while (!signal.aborted) {
      const rows = await this.outbox.pending(after, this.options.batchSize);
      if (rows.length === 0) {
        const idle = this.options.outboxWritten?.wait(this.options.pollMs, signal) ?? sleep(this.options.pollMs, signal);
        await idle.catch(() => undefined);
        continue;
      }
      const last = rows.at(-1);
      if (!last) continue;
      const t0 = performance.now();
      const records = await this.#publishable(rows);
      await this.options.topics.ensure(records.map((r) => r.topic));
      await this.sink.publish(
        records,
        last.id,
        positionTag(databaseId, last.eventId),
      );
      triggerMetrics.publishSeconds.observe((performance.now() - t0) / 1000);
      for (const r of records) triggerMetrics.events.inc({ workspace: workspaceLabel(r.workspace) });
      await this.outbox.markPublished(last.id, this.now());
      after = last.id;
    }
  }

  /**
   * The rows as records, without those too large to publish: a broker refuses a record over
   * its message.max.bytes on every retry, and one such event must not hold every event behind
   * it. Those are parked — set aside in the outbox with the reason, logged, counted — and the
   * relay goes on; `postbote events retry` puts one back in line once the limit is raised.
   */
  async #publishable(rows: readonly PendingRow[]): Promise<Array<TopicRecord & { workspace: string }>> {
    const records: Array<TopicRecord & { workspace: string }> = [];
    for (const r of rows) {
      const message = toRecord(r, this.options.encoding);
      const size = recordBytes(message);
      if (size <= this.options.maxEventBytes) {
        records.push({ topic: this.options.topics.of(r.workspaceId), message, workspace: r.workspaceId });
        continue;
      }
      const reason = `the encoded event has ${size} bytes; TRIGGER_MAX_EVENT_BYTES is ${this.options.maxEventBytes}`;
      await this.outbox.park([r.id], reason, this.now());
      triggerMetrics.parked.inc({ workspace: workspaceLabel(r.workspaceId) });
      this.logger.error({ code: 'EVENT_PARKED', eventId: r.eventId, emailId: r.emailId, connectorId: r.connectorId, workspace: r.workspaceId, size }, `event parked: ${reason}; the events behind it go on (postbote events parked / retry)`);
    }
    return records;
  }
}
