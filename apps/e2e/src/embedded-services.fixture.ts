// The four services in one process on the embedded default (SQLite, in-process bus), the
// fetcher on a simulated clock so runs happen when a test says; events collected as the
// workflow engine would see them.
import { join } from 'node:path';
import { InProcessBus, TOPICS } from '@postbote/bus';
import { startConfigService, type RunningConfigService } from '@postbote/config';
import { SimulatedClock } from '@postbote/backoff';
import { startFetcherService, type RunningFetcherService } from '@postbote/fetcher';
import { CapturedLog, createLogger } from '@postbote/logging';
import { EmailReceived } from '@postbote/proto';
import { startStorageService, type RunningStorageService } from '@postbote/storage';
import { TEST_SECURITY, tempDir } from '@postbote/testing';
import { startTriggerService, type RunningTriggerService } from '@postbote/trigger';

export interface EmbeddedServices {
  readonly dir: string;
  readonly clock: SimulatedClock;
  readonly log: CapturedLog;
  readonly events: EmailReceived[];
  readonly config: RunningConfigService;
  readonly storage: RunningStorageService;
  readonly trigger: RunningTriggerService;
  readonly fetcher: RunningFetcherService;
  /** One interval later: the actor's next run, awaited. */
  poll(connectorId: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startEmbeddedServices(prefix: string): Promise<EmbeddedServices> {
  const dir = tempDir(prefix);
  const db = { kind: 'sqlite' as const, file: join(dir, 'postbote.sqlite') };
  const bus = new InProcessBus();
  const clock = new SimulatedClock(Date.now());
  const log = new CapturedLog();
  const logger = createLogger({ service: 'e2e', level: 'info', destination: log });
  const events: EmailReceived[] = [];
  const config = await startConfigService({ address: '127.0.0.1:0', database: db, masterKeys: { kind: 'file', path: join(dir, 'master.key') }, security: TEST_SECURITY, adminTokenFile: join(dir, 'admin.token') }, { bus, logger });
  const storage = await startStorageService(
    { address: '127.0.0.1:0', publicAddress: undefined, database: db, spoolDir: join(dir, 'spool'), maxMessageBytes: 100 * 1024 * 1024, purgeIntervalSeconds: 3600, purgeBatchSize: 100, logRetentionDays: 30, dedupeExtraDays: 365, parseWorkers: 1, security: TEST_SECURITY, configAddress: config.address },
    { bus, logger, tokens: config.tokens },
  );
  const trigger = await startTriggerService(
    // The relay never polls here: every event leaves because storage's commit woke it, as in the all-in-one.
    { address: '127.0.0.1:0', database: db, topic: TOPICS.emailReceived, topicPerWorkspace: false, maxEventBytes: 900_000, encoding: 'protobuf', batchSize: 100, pollMs: 3_600_000, transactionalId: 'x', security: TEST_SECURITY, configAddress: config.address },
    { bus, busConfig: { kind: 'in-process' }, logger, tokens: config.tokens, outboxWritten: storage.outboxWritten },
  );
  await bus.subscribe({ topic: TOPICS.emailReceived, groupId: 'workflow-engine', fromBeginning: true }, async (m) => void events.push(EmailReceived.decode(m.value ?? new Uint8Array())));
  const fetcher = await startFetcherService(
    {
      address: '127.0.0.1:0',
      instanceId: 'e2e',
      configAddress: config.address,
      storageAddress: storage.address,
      security: TEST_SECURITY,
      maxMessageBytes: 50 * 1024 * 1024,
      maxAuthFailures: 3,
      authBackoffMs: 300_000,
      maxBackoffMs: 900_000,
      watchdogIntervals: 5,
      sessionTimeoutMs: 10_000,
      reportEveryMs: 5_000,
      startRate: 100,
    },
    { bus, logger, clock, tokens: config.tokens, peersInProcess: true },
  );
  return {
    dir,
    clock,
    log,
    events,
    config,
    storage,
    trigger,
    fetcher,
    poll: async (id) => {
      clock.increment(60_000);
      await fetcher.supervisor.actor(id)?.settled();
    },
    stop: async () => {
      await fetcher.stop();
      await trigger.stop();
      await storage.stop();
      await config.stop();
      await bus.close();
    },
  };
}
