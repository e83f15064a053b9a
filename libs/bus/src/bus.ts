/** One record on a topic. Values are protobuf bytes; headers carry content type, schema version, event id. */
export interface BusMessage {
  readonly key: string;
  readonly value: Uint8Array | null;
  readonly headers: Readonly<Record<string, string>>;
}

export interface DeliveredMessage extends BusMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface TopicSpec {
  readonly topic: string;
  /** Keep only the latest record per key (Kafka log compaction). */
  readonly compacted?: boolean;
  readonly partitions?: number;
}

export interface SubscribeOptions {
  readonly topic: string;
  /** Consumers in one group share the topic's partitions; each record reaches one of them. */
  readonly groupId: string;
  /** Start from the earliest retained record when the group has no committed position. */
  readonly fromBeginning?: boolean;
  /**
   * Partition ownership for consumers whose assignment *is* their work (fetchers own the
   * connectors in their partitions). With it the group never commits positions: every
   * newly assigned partition is read again from its start (the topic is compacted, so that
   * is each key's latest state), and the handlers hear what was assigned and revoked.
   */
  readonly ownership?: OwnershipHandlers;
  /** Kafka: how long a silent member keeps its partitions (a killed process's takeover delay). */
  readonly sessionTimeoutMs?: number;
}

export interface OwnershipHandlers {
  assigned(partitions: readonly number[]): Promise<void> | void;
  revoked(partitions: readonly number[]): Promise<void> | void;
}

/**
 * Handles one record. The bus awaits it before delivering the next record of the
 * same partition (per-key order), and commits the position only after it returns:
 * a handler that throws sees the record again.
 */
export type MessageHandler = (message: DeliveredMessage) => Promise<void>;

export interface Subscription {
  close(): Promise<void>;
}

/**
 * The seam between services: in-process for the embedded default, Kafka when
 * KAFKA_BROKERS is set. Both keep per-key order and at-least-once delivery;
 * consumers dedupe on the event id.
 */
export interface Bus {
  readonly kind: 'in-process' | 'kafka';
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  publish(topic: string, messages: readonly BusMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions, handler: MessageHandler): Promise<Subscription>;
  close(): Promise<void>;
}
