import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { TOPICS, type Bus } from '@postbote/bus';
import { dataDirFromEnv, databaseConfigFromEnv, describeDatabase, gateFor, openDatabase, transactionRunner, type DatabaseConfig } from '@postbote/db';
import type { Wakeup } from '@postbote/backoff';
import { OutboxEntity } from '@postbote/email-outbox';
import { readVar, type EnvReader } from '@postbote/env';
import { startGrpcServer } from '@postbote/grpc-runtime';
import type { TokenAuthenticator } from '@postbote/auth';
import type { Logger } from '@postbote/logging';
import { ConnectorChanged, ConnectorChanged_Kind, FILE_DESCRIPTOR_SET_BASE64, WorkspaceChanged, WorkspaceChanged_Kind } from '@postbote/proto';
import { ConnectorLog } from './connector-log';
import { EmailStore } from './email-store';
import { sweepSpool } from './incoming-email';
import { ChunkEntity, DedupeEntity, EmailEntity, StorageConnectorEntity, StorageWorkspaceEntity, LogEntity } from './entities';
import { StorageConnectors } from './storage-connectors';
import { STORAGE_MIGRATIONS } from './migrations';
import { RetentionJob } from './retention';
import type { BlobStore } from './blob-store';
import { BlobMigration } from './blob-migration';
import { S3BlobStore, parseBlobsUrl, type S3BlobsConfig } from './s3-blob-store';
import { storageService } from './storage-grpc';
import { localStoreEmails } from './local-store-call';
import { serveStoreStream } from './store-stream';
import { remoteTokenAuthority, serviceGate, serviceSecurityFromEnv, type OpenStoreEmails, type ServiceSecurity } from '@postbote/service-clients';
import { addReadinessCheck } from '@postbote/metrics';
import { connectorFromProto } from '@postbote/contract';

/** The storage service's tuning, in one place: each number with why it is what it is. */
export const STORAGE_TUNING = Object.freeze({
  /** An incoming email is held in memory up to this size, then spooled to disk. */
  incomingMemoryBytes: 4 * 1024 * 1024,
  /** Characters of text and HTML kept as a stored email's preview. */
  previewChars: 2000,
  /** Parsing one email's metadata may take this long; then it is stored raw with a parse error. */
  parseTimeoutMs: 30_000,
  /** A group commit holds at most this many emails and bytes, and waits this long for company. */
  groupMaxEmails: 500,
  groupMaxBytes: 32 * 1024 * 1024,
  groupLingerMs: 5,
  /** What one StoreEmails stream may have received but not yet acknowledged. */
  streamBudget: { maxPendingEmails: 1_000, maxPendingBytes: 64 * 1024 * 1024 },
  /**
   * Far beyond the time between a large email's chunks being written ahead and its group's
   * commit (seconds), so the sweep can never take chunks a commit is about to name.
   */
  orphanChunkMinutes: 24 * 60,
  /** A deletion that asks for its mail to go now is purged this soon after. */
  purgeSoonMs: 1_000,
  /**
   * The storage instances share one consumer group (they write one shared table). A killed
   * instance stays a member until its session expires, and a restarted one cannot finish
   * joining — nor start serving — before that: kafkajs's 30 s default kept a crashed
   * all-in-one from storing for 30 s. 7.5 s is just above the broker's usual minimum (6 s).
   */
  groupSessionMs: 7_500,
});

export interface StorageServiceConfig {
  readonly address: string;
  /** Address put into events for DownloadRawEmail; defaults to `address`. */
  readonly publicAddress: string | undefined;
  readonly database: DatabaseConfig;
  readonly spoolDir: string;
  readonly maxMessageBytes: number;
  readonly purgeIntervalSeconds: number;
  readonly purgeBatchSize: number;
  readonly logRetentionDays: number;
  readonly dedupeExtraDays: number;
  /** Worker threads parsing metadata (STORAGE_PARSE_WORKERS); 0 parses on the event loop. */
  readonly parseWorkers: number;
  readonly security: ServiceSecurity;
  /** The config service: the authority on API tokens. */
  readonly configAddress: string;
  /** Raw mail in this bucket instead of the database (MAIL_BLOBS_URL); undefined: chunks in the database. */
  readonly blobs?: S3BlobsConfig | undefined;
}

export function loadStorageServiceConfig(env: EnvReader): StorageServiceConfig {
  const dataDir = dataDirFromEnv(env);
  const database = databaseConfigFromEnv(env);
  const address = readVar(env, 'STORAGE_SERVICE_ADDR');
  return Object.freeze({
    address,
    publicAddress: readVar(env, 'STORAGE_PUBLIC_ADDR'),
    database,
    spoolDir: readVar(env, 'STORAGE_SPOOL_DIR') ?? join(dataDir, 'spool'),
    maxMessageBytes: readVar(env, 'STORAGE_MAX_MESSAGE_BYTES'),
    purgeIntervalSeconds: readVar(env, 'STORAGE_PURGE_INTERVAL_SECONDS'),
    purgeBatchSize: readVar(env, 'STORAGE_PURGE_BATCH'),
    logRetentionDays: readVar(env, 'STORAGE_LOG_RETENTION_DAYS'),
    dedupeExtraDays: readVar(env, 'STORAGE_DEDUPE_EXTRA_DAYS'),
    parseWorkers: readVar(env, 'STORAGE_PARSE_WORKERS') ?? Math.min(4, Math.max(1, availableParallelism() - 1)),
    security: serviceSecurityFromEnv(env),
    configAddress: readVar(env, 'CONFIG_SERVICE_ADDR'),
    blobs: blobsFromEnv(env),
  });
}

function blobsFromEnv(env: EnvReader): S3BlobsConfig | undefined {
  const url = readVar(env, 'MAIL_BLOBS_URL');
  return url ? parseBlobsUrl(url) : undefined;
}

/**
 * The object store, checked before the service accepts stores: a bucket that does not exist
 * or credentials it refuses stop the start naming MAIL_BLOBS_URL (exit 2, like any
 * configuration error); a store that cannot be reached yet is only logged — stores then fail
 * with BLOB_STORE_UNAVAILABLE and are retried, as during any outage.
 */
async function openBlobStore(config: S3BlobsConfig | undefined, logger: Logger): Promise<BlobStore | undefined> {
  if (!config) return undefined;
  const blobs = new S3BlobStore(config);
  try {
    await blobs.check();
  } catch (err) {
    if ((err as { code?: string }).code === 'CONFIG') {
      blobs.close();
      throw err;
    }
    logger.warn({ err, blobs: blobs.description }, 'object store not reachable yet; stores wait for it');
  }
  logger.info({ blobs: blobs.description }, 'raw mail goes to the object store');
  return blobs;
}

export interface RunningStorageService {
  readonly address: string;
  /** StoreEmails for a fetcher in this same process (the all-in-one): no loopback gRPC. */
  readonly localStoreEmails: OpenStoreEmails;
  /** Notified when outbox rows were committed: for a trigger service in this same process. */
  readonly outboxWritten: Wakeup;
  readonly store: EmailStore;
  /** Storage's copy of the registry (from the connectors topic). */
  readonly connectors: StorageConnectors;
  readonly log: ConnectorLog;
  readonly retention: RetentionJob;
  stop(): Promise<void>;
}

export async function startStorageService(
  config: StorageServiceConfig,
  deps: {
    readonly bus: Bus;
    readonly logger: Logger;
    readonly now?: () => Date;
    /** Who holds an API token; default: the config service, asked over gRPC and cached. */
    readonly tokens?: TokenAuthenticator;
  },
): Promise<RunningStorageService> {
  const { logger } = deps;
  const now = deps.now ?? (() => new Date());
  const T = STORAGE_TUNING;
  logger.info({ database: describeDatabase(config.database) }, 'storage service starting');
  const blobs = await openBlobStore(config.blobs, logger);
  const ds = await openDatabase({
    config: config.database,
    entities: [EmailEntity, ChunkEntity, DedupeEntity, LogEntity, StorageConnectorEntity, StorageWorkspaceEntity, OutboxEntity],
    migrations: STORAGE_MIGRATIONS,
    migrationsTableName: 'storage_migrations',
  }).catch((err: unknown) => {
    blobs?.close();
    throw err;
  });
  const gate = gateFor(config.database);
  const swept = await sweepSpool(config.spoolDir);
  if (swept > 0) logger.info({ files: swept, spoolDir: config.spoolDir }, 'scratch files of interrupted uploads removed');
  // The bound address is known only after listening (port 0 in tests); events need it.
  let boundAddress = config.address;
  const runner = transactionRunner(config.database, ds, gate);
  const store = new EmailStore(
    ds,
    gate,
    runner,
    {
      get publicAddress() {
        return config.publicAddress ?? boundAddress;
      },
      incoming: { spoolDir: config.spoolDir, memoryBytes: T.incomingMemoryBytes, maxBytes: config.maxMessageBytes },
      previewChars: T.previewChars,
      parseTimeoutMs: T.parseTimeoutMs,
      parseWorkers: config.parseWorkers,
      groupMaxEmails: T.groupMaxEmails,
      groupMaxBytes: T.groupMaxBytes,
      groupLingerMs: T.groupLingerMs,
      blobs,
    },
    now,
  );
  const log = new ConnectorLog(ds, gate);
  const known = new StorageConnectors(ds, gate);
  const retention = new RetentionJob(ds, gate, known, log, logger, {
    batchSize: config.purgeBatchSize,
    logRetentionDays: config.logRetentionDays,
    dedupeExtraDays: config.dedupeExtraDays,
    orphanChunkMinutes: T.orphanChunkMinutes,
    blobs,
  });
  const migration = new BlobMigration(ds, gate, blobs, store.incomingLimits, logger, now);
  const purges = schedulePurges(retention, config.purgeIntervalSeconds, logger, now);
  const following = await followRegistry(deps.bus, known, store, purges.soon, now);

  const tokens = deps.tokens ?? remoteTokenAuthority(config.security, config.configAddress, { now: () => now().getTime() });
  const server = await startGrpcServer({
    address: config.address,
    services: [storageService(store, known, log, migration, T.streamBudget, logger, now)],
    logger,
    descriptorSetBase64: FILE_DESCRIPTOR_SET_BASE64,
    transport: config.security.transport,
    gate: serviceGate(config.security, tokens, logger),
  });
  boundAddress = server.address;
  const stopReadiness = addReadinessCheck('storage: database', () => ds.query('SELECT 1').then(() => undefined));
  // No readiness check on the object store: while it is down storage still answers reads,
  // lists and logs, and each store fails with BLOB_STORE_UNAVAILABLE into the connector's log
  // and backoff — a process taken out of service (in the all-in-one: its fetcher stopped)
  // would say nothing to the connector's log at all.
  return {
    address: server.address,
    // In-process, the fetcher's SHA-256 was measured over the very Buffers storage keeps (decision 0037).
    localStoreEmails: localStoreEmails((requests, send) => serveStoreStream(store, known, requests, send, T.streamBudget, logger, 'sender')),
    outboxWritten: store.outboxWritten,
    store,
    connectors: known,
    log,
    retention,
    stop: async () => {
      stopReadiness();
      await server.stop();
      await following.close();
      await purges.stop();
      await store.close();
      await runner.close();
      await ds.destroy();
      blobs?.close();
    },
  };
}

/**
 * One purge at a time: on its interval, and soon after a deletion that asks for its mail
 * to go now (a deleted connector or workspace); a failed run is logged and retried next time.
 */
function schedulePurges(retention: RetentionJob, intervalSeconds: number, logger: Logger, now: () => Date) {
  let purging: Promise<unknown> = Promise.resolve();
  let soonTimer: NodeJS.Timeout | undefined;
  const purge = () => {
    purging = purging.then(() => retention.runOnce(now())).catch((err: unknown) => logger.error({ err }, 'retention purge failed'));
  };
  const timer = setInterval(purge, intervalSeconds * 1000);
  timer.unref();
  return {
    soon: () => {
      if (soonTimer) return;
      soonTimer = setTimeout(() => {
        soonTimer = undefined;
        purge();
      }, STORAGE_TUNING.purgeSoonMs);
      soonTimer.unref();
    },
    stop: async () => {
      clearInterval(timer);
      clearTimeout(soonTimer);
      await purging;
    },
  };
}

/** Storage's copies of the registry: connectors (settings, deletions) and each workspace's stored-bytes quota. */
async function followRegistry(bus: Bus, known: StorageConnectors, store: EmailStore, purgeSoon: () => void, now: () => Date): Promise<{ close(): Promise<void> }> {
  const sessionTimeoutMs = STORAGE_TUNING.groupSessionMs;
  await bus.ensureTopics([
    { topic: TOPICS.connectors, compacted: true },
    { topic: TOPICS.workspaces, compacted: true },
  ]);
  const connectors = await bus.subscribe({ topic: TOPICS.connectors, groupId: 'postbote-storage', fromBeginning: true, sessionTimeoutMs }, async (m) => {
    if (!m.value) return;
    const e = ConnectorChanged.decode(m.value);
    const at = e.occurredAt ?? now();
    if (e.kind === ConnectorChanged_Kind.UPSERTED && e.connector) await known.upserted(connectorFromProto(e.connector), at);
    else if (e.kind === ConnectorChanged_Kind.DELETED) {
      await known.deleted(e.connectorId, e.purgeEmailsNow, at);
      if (e.purgeEmailsNow) purgeSoon();
    }
  });
  // Shared like the connectors' table: one group for every storage instance.
  const quotas = await bus.subscribe({ topic: TOPICS.workspaces, groupId: 'postbote-storage-workspaces', fromBeginning: true, sessionTimeoutMs }, async (m) => {
    if (!m.value) return;
    const e = WorkspaceChanged.decode(m.value);
    if (e.kind === WorkspaceChanged_Kind.UPSERTED && e.workspace) await store.workspaces.quota(e.workspaceId, e.workspace.quotas?.maxStoredBytes ?? 0);
  });
  return {
    close: async () => {
      await connectors.close();
      await quotas.close();
    },
  };
}
