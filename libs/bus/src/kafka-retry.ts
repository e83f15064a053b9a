import { sleep } from '@postbote/backoff';
import { kafkaRefusal } from './kafka-security';

/** Where a waiting caller says what it waits for (the service's logger). */
export type WaitLog = (fields: Record<string, unknown>, message: string) => void;

export interface WaitOptions {
  /** Give up after this long (the error then is the last one seen). */
  readonly timeoutMs: number;
  readonly log?: WaitLog | undefined;
  readonly signal?: AbortSignal | undefined;
}

// Broker answers that pass on their own: a topic a moment old has no leader yet (a KRaft
// broker answers "does not host this topic-partition", which kafkajs does not retry —
// kafkajs#1563, KAFKA-15780), a group coordinator still loading, a broker still starting.
const TRANSIENT = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'NOT_CONTROLLER',
  'COORDINATOR_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'NOT_COORDINATOR',
  'REBALANCE_IN_PROGRESS',
  'REQUEST_TIMED_OUT',
  'BROKER_NOT_AVAILABLE',
  'NETWORK_EXCEPTION',
]);
const TRANSIENT_TEXT = /does not host this topic-partition|no leader|leader is not available|Connection (error|timeout)|ECONNREFUSED|ECONNRESET|not loaded|coordinator/i;

/** True for a broker answer that retrying will get past (kafkajs errors, possibly wrapped). */
export function isTransientKafkaError(err: unknown): boolean {
  for (let e = err as { type?: string; message?: string; retriable?: boolean; originalError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.type && TRANSIENT.has(e.type)) return true;
    if (TRANSIENT_TEXT.test(e.message ?? '')) return true;
    if (e.retriable === true) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

/**
 * Runs `work` again while it fails with a transient broker answer, with growing pauses
 * (0.25 s up to 5 s) and a log line per pause saying what it waits for, until it works
 * or `timeoutMs` passed. A service starting on a new cluster or namespace thus waits for
 * its topics instead of exiting.
 */
export async function whileTransient<T>(what: string, work: () => Promise<T>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      // An untrusted certificate or a refused login passes with no retry: say which variable to fix.
      const refusal = kafkaRefusal(err);
      if (refusal) throw refusal;
      const waitMs = Math.min(5_000, 250 * 2 ** attempt);
      if (!isTransientKafkaError(err) || Date.now() + waitMs > deadline) throw err;
      options.log?.({ waitingFor: what, retryInMs: waitMs, err: { message: (err as Error).message } }, 'waiting for Kafka');
      await sleep(waitMs, options.signal);
    }
  }
}
