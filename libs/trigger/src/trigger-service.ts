import { hostname } from 'node:os';
import type { TokenAuthenticator } from '@postbote/auth';
import { KafkaPositionedPublisher, namespaced, type Bus, type BusConfig } from '@postbote/bus';
import { databaseConfigFromEnv, describeDatabase, gateFor, openDatabase, transactionRunner, type DatabaseConfig } from '@postbote/db';
import { OutboxEntity } from '@postbote/email-outbox';
import type { Wakeup } from '@postbote/backoff';
import { readVar, type EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';
import { startGrpcServer } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { FILE_DESCRIPTOR_SET_BASE64 } from '@postbote/proto';
import { remoteTokenAuthority, serviceGate, serviceSecurityFromEnv, type ServiceSecurity } from '@postbote/service-clients';
import type { EventEncoding } from './event-encoding';
import { busSink, kafkaSink, type EventSink } from './event-sink';
import { EventTopics } from './event-topics';
import { OutboxRelay } from './outbox-relay';
import { OutboxStore } from './outbox-store';
import { triggerService } from './tail-events';
import { addReadinessCheck, onScrape, triggerMetrics } from '@postbote/metrics';

/** Where the relay commits its position (see KafkaPositionedPublisher); the group is per transactional id. */
export const POSITION_TOPIC = 'postbote.trigger-position.v1';

export interface TriggerServiceConfig {
  readonly address: string;
  readonly database: DatabaseConfig;
  readonly topic: string;
  /** One topic per workspace (TRIGGER_TOPIC_PER_WORKSPACE), see EventTopics. */
  readonly topicPerWorkspace: boolean;
  readonly encoding: EventEncoding;
  /** Larger records are parked, not published (TRIGGER_MAX_EVENT_BYTES). */
  readonly maxEventBytes: number;
  readonly batchSize: number;
  readonly pollMs: number;
  /** Kafka transactional id; instances sharing it fence each other (one active relay). */
  readonly transactionalId: string;
  readonly security: ServiceSecurity;
  /** The config service: the authority on API tokens. */
  readonly configAddress: string;
}

export function loadTriggerServiceConfig(env: EnvReader): TriggerServiceConfig {
  const database = databaseConfigFromEnv(env);
  const topic = readVar(env, 'TRIGGER_TOPIC');
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) throw new ConfigError('TRIGGER_TOPIC', 'must be a Kafka topic name (letters, digits, . _ -)');
  return Object.freeze({
    address: readVar(env, 'TRIGGER_SERVICE_ADDR'),
    database,
    topic,
    topicPerWorkspace: readVar(env, 'TRIGGER_TOPIC_PER_WORKSPACE'),
    encoding: readVar(env, 'TRIGGER_EVENT_ENCODING'),
    maxEventBytes: readVar(env, 'TRIGGER_MAX_EVENT_BYTES'),
    batchSize: readVar(env, 'TRIGGER_BATCH'),
    pollMs: readVar(env, 'TRIGGER_POLL_MS'),
    transactionalId: readVar(env, 'TRIGGER_TRANSACTIONAL_ID'),
    security: serviceSecurityFromEnv(env),
    configAddress: readVar(env, 'CONFIG_SERVICE_ADDR'),
  });
}

export interface RunningTriggerService {
  readonly address: string;
  readonly relay: OutboxRelay;
  stop(): Promise<void>;
}

export async function startTriggerService(
  config: TriggerServiceConfig,
  deps: {
    readonly bus: Bus;
    readonly busConfig: BusConfig;
    readonly logger: Logger;
    /** Who holds an API token; default: the config service, asked over gRPC and cached. */
    readonly tokens?: TokenAuthenticator;
    /** The storage service's notice of new outbox rows, when it runs in this process. */
    readonly outboxWritten?: Wakeup;
  },
): Promise<RunningTriggerService> {
  const { logger, bus } = deps;
  logger.info({ database: describeDatabase(config.database), topic: config.topic, encoding: config.encoding }, 'trigger service starting');
  // The outbox table belongs to the storage service's migrations; this service only reads
  // and marks it, so it runs none (and retries while storage has not created it yet).
  const ds = await openDatabase({ config: config.database, entities: [OutboxEntity], migrations: [], migrationsTableName: 'trigger_migrations' });
  const gate = gateFor(config.database);
  const runner = transactionRunner(config.database, ds, gate);
  const outbox = new OutboxStore(ds, gate, runner);
  await bus.ensureTopics([{ topic: config.topic }]);

  let sink: EventSink;
  if (deps.busConfig.kind === 'kafka') {
    const publisher = new KafkaPositionedPublisher({
      brokers: deps.busConfig.brokers,
      security: deps.busConfig.security,
      clientId: `${deps.busConfig.clientId}-relay-${hostname()}`,
      transactionalId: namespaced(deps.busConfig, config.transactionalId),
      positionTopic: namespaced(deps.busConfig, POSITION_TOPIC),
      positionGroup: namespaced(deps.busConfig, `${config.transactionalId}.position`),
      replicationFactor: deps.busConfig.replicationFactor,
    });
    sink = kafkaSink(publisher, deps.busConfig);
  } else {
    sink = busSink(bus);
  }
  const topics = new EventTopics(config.topic, config.topicPerWorkspace, bus);
  const relay = new OutboxRelay(outbox, sink, logger, { batchSize: config.batchSize, pollMs: config.pollMs, encoding: config.encoding, topics, maxEventBytes: config.maxEventBytes, outboxWritten: deps.outboxWritten });
  relay.start();
  const stopScrape = onScrape('outbox', async () => {
    const lag = await outbox.lag();
    triggerMetrics.outboxPending.set(lag.pending);
    triggerMetrics.outboxParked.set(lag.parked);
    triggerMetrics.outboxAge.set(lag.oldest ? Math.max(0, (Date.now() - lag.oldest.getTime()) / 1000) : 0);
  });
  const stopReadiness = addReadinessCheck('trigger: database', () => ds.query('SELECT 1').then(() => undefined));

  const server = await startGrpcServer({
    address: config.address,
    services: [triggerService(bus, topics, outbox, logger)],
    logger,
    descriptorSetBase64: FILE_DESCRIPTOR_SET_BASE64,
    transport: config.security.transport,
    gate: serviceGate(config.security, deps.tokens ?? remoteTokenAuthority(config.security, config.configAddress, { now: Date.now }), logger),
  });
  return {
    address: server.address,
    relay,
    stop: async () => {
      stopScrape();
      stopReadiness();
      await server.stop();
      await relay.stop();
      await runner.close();
      await ds.destroy();
    },
  };
}

