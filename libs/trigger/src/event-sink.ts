import type { Bus, BusConfig, KafkaPositionedPublisher, TopicRecord } from '@postbote/bus';
import { namespaced } from '@postbote/bus';
import type { HeldPosition } from './position-check';

/**
 * Where the relay delivers events (each record to its topic, by its base name). `start`
 * returns the position (last outbox id) the sink already holds, offset -1 when it keeps none;
 * `publish` delivers a batch and, where the sink supports it, records `position` and its
 * `tag` atomically with it.
 */
export interface EventSink {
  readonly exactlyOnce: boolean;
  start(): Promise<HeldPosition>;
  publish(records: readonly TopicRecord[], position: number, tag: string): Promise<void>;
  close(): Promise<void>;
}

/** Kafka with transactions: records and position commit together (exactly once), topics under the namespace. */
export function kafkaSink(publisher: KafkaPositionedPublisher, busConfig: BusConfig): EventSink {
  return {
    exactlyOnce: true,
    start: () => publisher.start(),
    publish: (records, position, tag) => publisher.publish(records.map((r) => ({ topic: namespaced(busConfig, r.topic), message: r.message })), position, tag),
    close: () => publisher.close(),
  };
}

/**
 * The embedded default's in-process bus: publish, then the relay marks the rows. A crash
 * between the two republishes that batch at the next start (at least once); consumers
 * dedupe on the event-id header. In-process consumers live in the same process, so they
 * restart with it anyway.
 */
export function busSink(bus: Bus): EventSink {
  return {
    exactlyOnce: false,
    start: async () => ({ offset: -1, tag: null }),
    publish: async (records) => {
      // Topic by topic, in the records' order (one connector's events share a topic).
      const byTopic = new Map<string, TopicRecord['message'][]>();
      for (const r of records) {
        const list = byTopic.get(r.topic) ?? [];
        list.push(r.message);
        byTopic.set(r.topic, list);
      }
      for (const [topic, messages] of byTopic) await bus.publish(topic, messages);
    },
    close: async () => undefined,
  };
}
