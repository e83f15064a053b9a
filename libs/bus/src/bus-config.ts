import { readVar, type EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';
import type { Bus } from './bus';
import { InProcessBus } from './in-process-bus';
import { KafkaBus } from './kafka-bus';
import type { WaitLog } from './kafka-retry';
import { kafkaSecurityFromEnv, type KafkaSecurity } from './kafka-security';

export type BusConfig =
  | { readonly kind: 'in-process' }
  | {
      readonly kind: 'kafka';
      readonly brokers: readonly string[];
      readonly clientId: string;
      readonly partitions: number;
      readonly replicationFactor: number;
      readonly namespace: string;
      readonly security: KafkaSecurity;
    };

/** KAFKA_BROKERS selects Kafka; without it the process uses the in-process bus. */
export function loadBusConfig(env: EnvReader, clientId: string): BusConfig {
  const brokers = readVar(env, 'KAFKA_BROKERS');
  if (brokers.length === 0) return { kind: 'in-process' };
  for (const b of brokers) if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new ConfigError('KAFKA_BROKERS', `"${b}" is not host:port`);
  return {
    kind: 'kafka',
    brokers,
    clientId: readVar(env, 'KAFKA_CLIENT_ID') ?? clientId,
    partitions: readVar(env, 'KAFKA_PARTITIONS'),
    replicationFactor: readVar(env, 'KAFKA_REPLICATION_FACTOR'),
    namespace: kafkaNamespace(env),
    security: kafkaSecurityFromEnv(env),
  };
}

function kafkaNamespace(env: EnvReader): string {
  const ns = readVar(env, 'KAFKA_NAMESPACE');
  if (ns && !/^[A-Za-z0-9_-]{1,64}$/.test(ns)) throw new ConfigError('KAFKA_NAMESPACE', 'must be 1-64 of A-Z a-z 0-9 _ -');
  return ns;
}

/** The cluster-side name of a topic or group under the configured namespace. */
export function namespaced(config: BusConfig, base: string): string {
  return config.kind === 'kafka' && config.namespace ? `${config.namespace}.${base}` : base;
}

/** The bus a configuration selects; `log` hears what a Kafka bus waits for at start-up. */
export function createBus(config: BusConfig, log?: WaitLog): Bus {
  if (config.kind === 'in-process') {
    return new InProcessBus({
      onHandlerError: (err, m, group, retryInMs) => log?.({ err: { message: (err as Error)?.message ?? String(err) }, topic: m.topic, offset: m.offset, group, retryInMs }, 'bus handler failed; the record is delivered again'),
    });
  }
  return new KafkaBus({
    brokers: config.brokers,
    clientId: config.clientId,
    defaultPartitions: config.partitions,
    replicationFactor: config.replicationFactor,
    namespace: config.namespace,
    security: config.security,
    log,
  });
}
