import type { EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';
import type { Bus } from './bus';
import { InProcessBus } from './in-process-bus';
import { KafkaBus } from './kafka-bus';
import type { WaitLog } from './kafka-retry';

export type BusConfig =
  | { readonly kind: 'in-process' }
  | {
      readonly kind: 'kafka';
      readonly brokers: readonly string[];
      readonly clientId: string;
      readonly partitions: number;
      readonly replicationFactor: number;
      readonly namespace: string;
    };

/** KAFKA_BROKERS selects Kafka; without it the process uses the in-process bus. */
export function loadBusConfig(env: EnvReader, clientId: string): BusConfig {
  const brokers = env.list('KAFKA_BROKERS');
  if (brokers.length === 0) return { kind: 'in-process' };
  for (const b of brokers) if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new ConfigError('KAFKA_BROKERS', `"${b}" is not host:port`);
  return {
    kind: 'kafka',
    brokers,
    clientId: env.string('KAFKA_CLIENT_ID', clientId),
    partitions: env.int('KAFKA_PARTITIONS', 64, { min: 1, max: 10_000 }),
    replicationFactor: env.int('KAFKA_REPLICATION_FACTOR', 1, { min: 1, max: 16 }),
    namespace: kafkaNamespace(env),
  };
}

function kafkaNamespace(env: EnvReader): string {
  const ns = env.string('KAFKA_NAMESPACE', '');
  if (ns && !/^[A-Za-z0-9_-]{1,64}$/.test(ns)) throw new ConfigError('KAFKA_NAMESPACE', 'must be 1-64 of A-Z a-z 0-9 _ -');
  return ns;
}

/** The cluster-side name of a topic or group under the configured namespace. */
export function namespaced(config: BusConfig, base: string): string {
  return config.kind === 'kafka' && config.namespace ? `${config.namespace}.${base}` : base;
}

/** The bus a configuration selects; `log` hears what a Kafka bus waits for at start-up. */
export function createBus(config: BusConfig, log?: WaitLog): Bus {
  if (config.kind === 'in-process') return new InProcessBus();
  return new KafkaBus({
    brokers: config.brokers,
    clientId: config.clientId,
    defaultPartitions: config.partitions,
    replicationFactor: config.replicationFactor,
    namespace: config.namespace,
    log,
  });
}
