import { CompressionTypes, Kafka, Partitioners, logLevel, type Admin, type Consumer, type Producer, type IHeaders } from 'kafkajs';
import type { Bus, BusMessage, MessageHandler, SubscribeOptions, Subscription, TopicSpec } from './bus';
import { COMPRESSED_TOPICS } from './topics';
import { whileTransient, type WaitLog } from './kafka-retry';
import { kafkaClientSecurity, type KafkaSecurity } from './kafka-security';
import { addReadinessCheck } from '@postbote/metrics';

export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  /** Prefix of every topic and group name, so deployments can share a cluster. */
  readonly namespace?: string;
  readonly clientId: string;
  /** TLS and SASL to the brokers (KAFKA_TLS_*, KAFKA_SASL_*); plaintext when absent. */
  readonly security?: KafkaSecurity;
  readonly defaultPartitions: number;
  readonly replicationFactor: number;
  /** How long start-up waits out transient broker answers (new topics without a leader). */
  readonly startupWaitMs?: number;
  /** Where waiting is reported. */
  readonly log?: WaitLog;
}

/**
 * Kafka implementation of the bus (kafkajs). The producer is idempotent (no duplicates
 * from its own retries); consumers commit after the handler returns. Creating topics and
 * subscribing wait out the broker's transient answers (see kafka-retry). The trigger
 * service's transactional publishing lives in KafkaPositionedPublisher.
 */
export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  readonly #kafka: Kafka;
  #producer: Promise<Producer> | undefined;
  readonly #consumers = new Set<Consumer>();

  readonly #stopReadiness: () => void;

  constructor(private readonly options: KafkaBusOptions) {
    this.#kafka = new Kafka({ clientId: options.clientId, brokers: [...options.brokers], logLevel: logLevel.WARN, ...kafkaClientSecurity(options.security) });
    this.#stopReadiness = addReadinessCheck('kafka', () => this.#reachable());
  }

  #probe: Admin | undefined;

  /**
   * For readiness: a broker answers a metadata request (one try, no retries). The probe's
   * connection is kept between checks — a new one every few seconds would cost the broker
   * more than the answer — and rebuilt after a failure.
   */
  async #reachable(): Promise<void> {
    const admin = (this.#probe ??= this.#kafka.admin({ retry: { retries: 0 } }));
    try {
      await admin.connect();
      await admin.describeCluster();
    } catch (err) {
      this.#probe = undefined;
      await admin.disconnect().catch(() => undefined);
      throw err;
    }
  }

  /** The cluster-side name of a topic or group. */
  name(base: string): string {
    return this.options.namespace ? `${this.options.namespace}.${base}` : base;
  }

  /** Creates missing topics and returns once each has a leader for every partition. */
  async ensureTopics(input: readonly TopicSpec[]): Promise<void> {
    const specs = input.map((s) => ({ ...s, topic: this.name(s.topic) }));
    const admin = this.#kafka.admin();
    await this.#wait('the broker', () => admin.connect());
    try {
      await this.#wait(`topics ${specs.map((s) => s.topic).join(', ')}`, async () => {
        const existing = new Set(await admin.listTopics());
        const missing = specs.filter((s) => !existing.has(s.topic));
        if (missing.length > 0) {
          // Another process may create the same topic at the same moment: that is fine.
          await admin
            .createTopics({
              waitForLeaders: true,
              topics: missing.map((s) => ({
                topic: s.topic,
                numPartitions: s.partitions ?? this.options.defaultPartitions,
                replicationFactor: this.options.replicationFactor,
                configEntries: s.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
              })),
            })
            .catch((err: unknown) => {
              if (!/already exists/i.test(String((err as Error).message))) throw err;
            });
        }
        // Created is not usable yet: wait until the metadata names a leader everywhere.
        const meta = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.topic) });
        const leaderless = meta.topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
        if (leaderless.length) throw Object.assign(new Error(`no leader yet for ${leaderless.map((t) => t.name).join(', ')}`), { type: 'LEADER_NOT_AVAILABLE' });
      });
    } finally {
      await admin.disconnect();
    }
  }

  async publish(topic: string, messages: readonly BusMessage[]): Promise<void> {
    const producer = await this.#wait('the broker', () => this.#ensureProducer());
    const records = messages.map((m) => ({ key: m.key, value: m.value ? Buffer.from(m.value) : null, headers: { ...m.headers } }));
    // A topic created a moment ago (by this or another process) may not have a leader yet.
    const compression = COMPRESSED_TOPICS.has(topic) ? CompressionTypes.GZIP : CompressionTypes.None;
    await this.#wait(`topic ${this.name(topic)}`, () => producer.send({ topic: this.name(topic), acks: -1, compression, messages: records }));
  }

  async subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription> {
    const topic = this.name(options.topic);
    const consumer = this.#kafka.consumer({ groupId: this.name(options.groupId), ...groupTiming(options.sessionTimeoutMs) });
    this.#consumers.add(consumer);
    const ownership = options.ownership;
    let owned = new Set<number>();
    if (ownership) {
      // Each (re)join announces this member's assignment; the difference to the last one
      // is what it lost and what it gained. Lost partitions are released before gained
      // ones are taken, so an instance never briefly owns more than it should.
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        const now = new Set<number>((e.payload.memberAssignment[topic] ?? []) as number[]);
        const lost = [...owned].filter((p) => !now.has(p));
        const gained = [...now].filter((p) => !owned.has(p));
        owned = now;
        (async () => {
          if (lost.length) await ownership.revoked(lost);
          if (gained.length) await ownership.assigned(gained);
        })().catch((err: unknown) => this.options.log?.({ err, lost, gained }, 'partition ownership change failed'));
      });
      consumer.on(consumer.events.STOP, () => {
        const lost = [...owned];
        owned = new Set();
        if (lost.length) Promise.resolve(ownership.revoked(lost)).catch((err: unknown) => this.options.log?.({ err, lost }, 'partition release failed'));
      });
    }
    await this.#wait('the broker', () => consumer.connect());
    await this.#wait(`topic ${topic}`, () => consumer.subscribe({ topic, fromBeginning: ownership ? true : (options.fromBeginning ?? false) }));
    await consumer.run({
      // With ownership nothing is committed: an assignment always starts at the beginning.
      autoCommit: !ownership,
      eachMessage: async ({ partition, message }) => {
        await handler({
          topic: options.topic,
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? '',
          value: message.value,
          headers: decodeHeaders(message.headers),
        });
      },
    });
    return {
      close: async () => {
        this.#consumers.delete(consumer);
        await consumer.disconnect();
      },
    };
  }

  async close(): Promise<void> {
    this.#stopReadiness();
    await this.#probe?.disconnect().catch(() => undefined);
    this.#probe = undefined;
    await Promise.all([...this.#consumers].map((c) => c.disconnect()));
    this.#consumers.clear();
    const producer = this.#producer;
    this.#producer = undefined;
    await producer?.then((p) => p.disconnect(), () => undefined);
  }

  #wait<T>(what: string, work: () => Promise<T>): Promise<T> {
    return whileTransient(what, work, { timeoutMs: this.options.startupWaitMs ?? 120_000, log: this.options.log });
  }

  /** One producer per bus, also when the first publishes race each other. */
  #ensureProducer(): Promise<Producer> {
    this.#producer ??= (async () => {
      const producer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      return producer;
    })().catch((err: unknown) => {
      this.#producer = undefined;
      throw err;
    });
    return this.#producer;
  }
}

/**
 * A group with a session timeout is one whose members take over from a dead one (fetchers, storage).
 * kafkajs heartbeats only between fetches, and an idle fetch waits `maxWaitTimeInMs` (5 s by
 * default) for data: a live member would hear of a dead one's rebalance up to 5 s after the
 * broker starts it. A tenth of the session timeout for both (1 s at the fetchers' 10 s default)
 * makes takeover the session timeout plus about a second (benchmarks.md, the fleet scaled out);
 * it costs each member one empty fetch and one heartbeat a second.
 */
function groupTiming(sessionTimeoutMs: number | undefined): { sessionTimeout?: number; heartbeatInterval?: number; maxWaitTimeInMs?: number } {
  if (!sessionTimeoutMs) return {};
  const beat = Math.max(500, Math.floor(sessionTimeoutMs / 10));
  return { sessionTimeout: sessionTimeoutMs, heartbeatInterval: beat, maxWaitTimeInMs: beat };
}

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = first.toString();
  }
  return out;
}
