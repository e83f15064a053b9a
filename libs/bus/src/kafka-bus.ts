import { Kafka, Partitioners, logLevel, type Consumer, type Producer, type IHeaders } from 'kafkajs';
import type { Bus, BusMessage, MessageHandler, SubscribeOptions, Subscription, TopicSpec } from './bus';

export interface KafkaBusOptions {
  readonly brokers: readonly string[];
  /** Prefix of every topic and group name, so deployments can share a cluster. */
  readonly namespace?: string;
  readonly clientId: string;
  readonly defaultPartitions: number;
  readonly replicationFactor: number;
}

/**
 * Kafka implementation of the bus (kafkajs). Producer is idempotent (no duplicates
 * from its own retries); consumers commit after the handler returns. Transactions
 * and the outbox relay arrive with the trigger service.
 */
export class KafkaBus implements Bus {
  readonly kind = 'kafka' as const;
  readonly #kafka: Kafka;
  #producer: Producer | undefined;
  readonly #consumers = new Set<Consumer>();

  constructor(private readonly options: KafkaBusOptions) {
    this.#kafka = new Kafka({ clientId: options.clientId, brokers: [...options.brokers], logLevel: logLevel.WARN });
  }

  /** The cluster-side name of a topic or group. */
  name(base: string): string {
    return this.options.namespace ? `${this.options.namespace}.${base}` : base;
  }

  async ensureTopics(input: readonly TopicSpec[]): Promise<void> {
    const specs = input.map((s) => ({ ...s, topic: this.name(s.topic) }));
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.topic));
      if (missing.length === 0) return;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions ?? this.options.defaultPartitions,
          replicationFactor: this.options.replicationFactor,
          configEntries: s.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
        })),
      });
    } finally {
      await admin.disconnect();
    }
  }

  async publish(topic: string, messages: readonly BusMessage[]): Promise<void> {
    const producer = await this.#ensureProducer();
    await producer.send({
      topic: this.name(topic),
      acks: -1,
      messages: messages.map((m) => ({ key: m.key, value: m.value ? Buffer.from(m.value) : null, headers: { ...m.headers } })),
    });
  }

  async subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription> {
    const topic = this.name(options.topic);
    const consumer = this.#kafka.consumer({
      groupId: this.name(options.groupId),
      ...(options.sessionTimeoutMs ? { sessionTimeout: options.sessionTimeoutMs, heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 5)) } : {}),
    });
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
        void (async () => {
          if (lost.length) await ownership.revoked(lost);
          if (gained.length) await ownership.assigned(gained);
        })();
      });
      consumer.on(consumer.events.STOP, () => {
        const lost = [...owned];
        owned = new Set();
        if (lost.length) void ownership.revoked(lost);
      });
    }
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: ownership ? true : (options.fromBeginning ?? false) });
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
    await Promise.all([...this.#consumers].map((c) => c.disconnect()));
    this.#consumers.clear();
    await this.#producer?.disconnect();
    this.#producer = undefined;
  }

  async #ensureProducer(): Promise<Producer> {
    if (!this.#producer) {
      const producer = this.#kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      this.#producer = producer;
    }
    return this.#producer;
  }
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
