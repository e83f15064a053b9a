import type { Bus, BusMessage, KafkaPositionedPublisher } from '@postbote/bus';
import type { HeldPosition } from './position-check';

/**
 * Where the relay delivers events. `start` returns the position (last outbox id) the
 * sink already holds, offset -1 when it keeps none; `publish` delivers a batch and, where
 * the sink supports it, records `position` and its `tag` atomically with it.
 */
export interface EventSink {
  readonly exactlyOnce: boolean;
  start(): Promise<HeldPosition>;
  publish(messages: readonly BusMessage[], position: number, tag: string): Promise<void>;
  close(): Promise<void>;
}

/** Kafka with transactions: records and position commit together (exactly once). */
export function kafkaSink(publisher: KafkaPositionedPublisher, topic: string): EventSink {
  return {
    exactlyOnce: true,
    start: () => publisher.start(),
    publish: (messages, position, tag) => publisher.publish(topic, messages, position, tag),
    close: () => publisher.close(),
  };
}

/**
 * The embedded default's in-process bus: publish, then the relay marks the rows. A crash
 * between the two republishes that batch at the next start (at least once); consumers
 * dedupe on the event-id header. In-process consumers live in the same process, so they
 * restart with it anyway.
 */
export function busSink(bus: Bus, topic: string): EventSink {
  return {
    exactlyOnce: false,
    start: async () => ({ offset: -1, tag: null }),
    publish: (messages) => bus.publish(topic, messages),
    close: async () => undefined,
  };
}
