import { Kafka, Partitioners, logLevel, type Admin, type Producer } from 'kafkajs';
import type { BusMessage } from './bus';
import { kafkaClientSecurity, type KafkaSecurity } from './kafka-security';

export interface PositionedPublisherOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** TLS and SASL to the brokers; plaintext when absent. */
  readonly security?: KafkaSecurity;
  /** Stable per logical publisher: a newer producer with this id fences older ones. */
  readonly transactionalId: string;
  /** Topic (1 partition) and group under which the position is committed. */
  readonly positionTopic: string;
  readonly positionGroup: string;
  readonly replicationFactor: number;
}

/**
 * Record bytes per produce request. kafkajs sends a request's records for one partition as
 * one record batch, and the broker refuses a batch over its message.max.bytes (1 MiB by
 * default): a relay batch of a few hundred events with long recipient lists is more than
 * that. Several requests in one transaction are as atomic as one.
 */
const REQUEST_BYTES = 512 * 1024;
/** What a record costs in a batch beyond its key, value and headers (lengths, offsets, attributes). */
const RECORD_OVERHEAD = 32;

/** A record and the topic it goes to: one transaction may write to several topics. */
export interface TopicRecord {
  readonly topic: string;
  readonly message: BusMessage;
}

/** What a record costs in a record batch: key, value, headers and their framing. */
export function recordBytes(m: BusMessage): number {
  let size = RECORD_OVERHEAD + m.key.length + (m.value?.length ?? 0);
  for (const [k, v] of Object.entries(m.headers)) size += k.length + v.length;
  return size;
}

function* requestSized(records: readonly TopicRecord[]): Generator<TopicRecord[]> {
  let part: TopicRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const size = recordBytes(r.message);
    if (part.length > 0 && bytes + size > REQUEST_BYTES) {
      yield part;
      part = [];
      bytes = 0;
    }
    part.push(r);
    bytes += size;
  }
  if (part.length > 0) yield part;
}

/**
 * Publishes a batch of records and a position (e.g. the last outbox id in the batch)
 * in one Kafka transaction: either both become visible or neither does. After a crash,
 * `start()` returns the last committed position, so a relay resumes exactly after what
 * consumers can already see: no duplicates, nothing skipped.
 *
 * The position is stored as a consumer-group offset (TxnOffsetCommit) on a dedicated
 * one-partition topic — the only state Kafka lets a producer commit atomically with its
 * records. `initTransactions` (in connect) aborts whatever a previous incarnation left
 * open, so the position read afterwards is stable.
 */
export class KafkaPositionedPublisher {
  readonly #kafka: Kafka;
  #producer: Producer | undefined;
  #admin: Admin | undefined;

  constructor(private readonly options: PositionedPublisherOptions) {
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.NOTHING,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2_000 },
      connectionTimeout: 5_000,
      requestTimeout: 15_000,
      ...kafkaClientSecurity(options.security),
    });
  }

  /** Connects (fencing older producers) and returns the committed position (offset -1: none) and its tag. */
  async start(): Promise<{ offset: number; tag: string | null }> {
    await this.close();
    const admin = this.#kafka.admin();
    this.#admin = admin;
    await admin.connect();
    const topics = await admin.listTopics();
    if (!topics.includes(this.options.positionTopic)) {
      await admin
        .createTopics({ waitForLeaders: true, topics: [{ topic: this.options.positionTopic, numPartitions: 1, replicationFactor: this.options.replicationFactor }] })
        .catch((err: unknown) => {
          if (!String((err as Error).message).includes('already exists')) throw err;
        });
    }
    const producer = this.#kafka.producer({ transactionalId: this.options.transactionalId, maxInFlightRequests: 1, idempotent: true, transactionTimeout: 60_000, createPartitioner: Partitioners.DefaultPartitioner });
    this.#producer = producer;
    await producer.connect();
    const [entry] = await admin.fetchOffsets({ groupId: this.options.positionGroup, topics: [this.options.positionTopic] });
    const p = entry?.partitions.find((x) => x.partition === 0);
    return { offset: Number(p?.offset ?? '-1'), tag: p?.metadata || null };
  }

  /**
   * Sends the records (to their topics) and commits `position`, atomically. `tag` travels
   * with the position as the offset's metadata (what the position is of: see the trigger's
   * position check).
   */
  async publish(records: readonly TopicRecord[], position: number, tag: string): Promise<void> {
    const producer = this.#producer;
    if (!producer) throw new Error('publisher not started');
    const txn = await producer.transaction();
    try {
      for (const part of requestSized(records)) {
        const byTopic = new Map<string, BusMessage[]>();
        for (const r of part) {
          const list = byTopic.get(r.topic) ?? [];
          list.push(r.message);
          byTopic.set(r.topic, list);
        }
        await txn.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({
            topic,
            messages: messages.map((m) => ({ key: m.key, value: m.value ? Buffer.from(m.value) : null, headers: { ...m.headers } })),
          })),
        });
      }
      await txn.sendOffsets({
        consumerGroupId: this.options.positionGroup,
        // kafkajs sends `metadata` in TxnOffsetCommit (its types just do not say so).
        topics: [{ topic: this.options.positionTopic, partitions: [{ partition: 0, offset: String(position), metadata: tag } as { partition: number; offset: string }] }],
      });
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const producer = this.#producer;
    const admin = this.#admin;
    this.#producer = undefined;
    this.#admin = undefined;
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
  }
}
