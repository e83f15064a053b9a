import { sourceAddressFromEnv } from '@postbote/mailbox';
import { hostname } from 'node:os';
import type { Client } from '@grpc/grpc-js';
import { DEFAULT_WORKSPACE, inScope, type TokenAuthenticator } from '@postbote/auth';
import { TOPICS, type Bus } from '@postbote/bus';
import { readVar, type EnvReader } from '@postbote/env';
import { connect, healthOf, startGrpcServer, unary, type ServiceRegistration } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import {
  ConnectorChanged,
  ConnectorChanged_Kind,
  ConnectorState,
  CredentialServiceClient,
  FetcherServiceService,
  FILE_DESCRIPTOR_SET_BASE64,
  StorageServiceClient,
  type FetcherInstance,
  type FetcherServiceServer,
} from '@postbote/proto';
import { internalClientAuth, remoteTokenAuthority, serviceGate, serviceSecurityFromEnv, type OpenStoreEmails, type ServiceSecurity } from '@postbote/service-clients';
import { FleetView } from './fleet-view';
import { systemClock, type Clock } from '@postbote/backoff';
import type { ActorState, ActorStatus, FetchConnector } from './connector-actor';
import { addReadinessCheck, connectorLabelsOn, fetcherMetrics, onScrape, workspaceLabel } from '@postbote/metrics';
import { connectorFromProto } from '@postbote/contract';
import { ConnectorLogSink } from './connector-log-sink';
import { connectorPoll } from './connector-poll';
import { Supervisor } from './supervisor';
import { followWorkspaces } from './workspace-policies';

/** The fetcher service's fixed tuning, in one place. */
export const FETCHER_TUNING = Object.freeze({
  /** A store stream's message (one email's chunk) may be this large on the wire. */
  storageMaxSendBytes: 8 * 1024 * 1024,
  /** How often the supervisor looks for a run that outlived its watchdog. */
  watchdogEveryMs: 30_000,
});

export interface FetcherServiceConfig {
  readonly address: string;
  readonly instanceId: string;
  readonly configAddress: string;
  readonly storageAddress: string;
  readonly security: ServiceSecurity;
  readonly maxMessageBytes: number;
  readonly maxAuthFailures: number;
  readonly authBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly watchdogIntervals: number;
  /** Kafka: how long a silent fetcher keeps its connectors before others take over. */
  readonly sessionTimeoutMs: number;
  /** How often this fetcher publishes its report for the fleet view. */
  readonly reportEveryMs: number;
  /** First runs started per second for connectors this fetcher takes on. */
  readonly startRate: number;
  /** The local address mail-server connections are made from (FETCHER_SOURCE_ADDRESS); unset: the system's choice. */
  readonly sourceAddress?: string | null;
}

export function loadFetcherServiceConfig(env: EnvReader): FetcherServiceConfig {
  return Object.freeze({
    address: readVar(env, 'FETCHER_SERVICE_ADDR'),
    instanceId: readVar(env, 'FETCHER_INSTANCE_ID') ?? `${hostname()}-${process.pid}`,
    configAddress: readVar(env, 'CONFIG_SERVICE_ADDR'),
    storageAddress: readVar(env, 'STORAGE_SERVICE_ADDR'),
    security: serviceSecurityFromEnv(env),
    maxMessageBytes: readVar(env, 'FETCHER_MAX_MESSAGE_BYTES'),
    maxAuthFailures: readVar(env, 'FETCHER_MAX_AUTH_FAILURES'),
    authBackoffMs: readVar(env, 'FETCHER_AUTH_BACKOFF_SECONDS') * 1000,
    maxBackoffMs: readVar(env, 'FETCHER_MAX_BACKOFF_SECONDS') * 1000,
    watchdogIntervals: readVar(env, 'FETCHER_WATCHDOG_INTERVALS'),
    sessionTimeoutMs: readVar(env, 'FETCHER_SESSION_TIMEOUT_MS'),
    reportEveryMs: readVar(env, 'FETCHER_REPORT_SECONDS') * 1000,
    startRate: readVar(env, 'FETCHER_START_RATE'),
    sourceAddress: sourceAddressFromEnv(env),
  });
}

export interface RunningFetcherService {
  readonly address: string;
  readonly supervisor: Supervisor;
  stop(): Promise<void>;
}

const STATE: Record<ActorState, ConnectorState> = {
  IDLE: ConnectorState.IDLE,
  WAITING: ConnectorState.WAITING,
  POLLING: ConnectorState.POLLING,
  BACKOFF: ConnectorState.BACKOFF,
  AUTH_FAILED: ConnectorState.AUTH_FAILED,
  STOPPED: ConnectorState.STOPPED,
};

/**
 * The fetcher: reads the connectors topic (from the beginning: it is compacted, so that
 * is every connector's latest config), keeps one actor per enabled connector, and serves
 * their states. Credentials come from the config service when a run starts.
 */
export async function startFetcherService(
  config: FetcherServiceConfig,
  deps: {
    readonly bus: Bus;
    readonly logger: Logger;
    readonly clock?: Clock;
    /** A storage service in this same process (the all-in-one) takes the store streams directly. */
    readonly storeEmails?: OpenStoreEmails;
    /** Who holds an API token; default: the config service, asked over gRPC and cached. */
    readonly tokens?: TokenAuthenticator;
    /**
     * The config and storage services run in this process (the all-in-one): their own
     * readiness checks cover them. Asking their health here would make readiness depend on
     * itself (their health follows this process's readiness) and never recover.
     */
    readonly peersInProcess?: boolean;
  },
): Promise<RunningFetcherService> {
  const { logger, bus } = deps;
  const clock = deps.clock ?? systemClock;
  // Checked before anything starts: without an identity every run would fail later.
  const asFetcher = internalClientAuth(config.security);
  const credentials = connect(CredentialServiceClient, config.configAddress, asFetcher);
  const storage = connect(StorageServiceClient, config.storageAddress, asFetcher, { 'grpc.max_send_message_length': FETCHER_TUNING.storageMaxSendBytes });
  const logSink = new ConnectorLogSink(storage, logger);
  const run = connectorPoll({
    credentials,
    storage,
    storeEmails: deps.storeEmails,
    logFor: (id) => logSink.for(id),
    maxMessageBytes: config.maxMessageBytes,
    sourceAddress: config.sourceAddress ?? null,
    now: () => new Date(clock.now()),
  });
  const supervisor = new Supervisor(run, (id) => logSink.for(id), clock, {
    maxAuthFailures: config.maxAuthFailures,
    authBackoffMs: config.authBackoffMs,
    maxBackoffMs: config.maxBackoffMs,
    watchdogIntervals: config.watchdogIntervals,
    watchdogEveryMs: FETCHER_TUNING.watchdogEveryMs,
    startRate: config.startRate,
  }, logger);
  supervisor.start();
  const stopScrape = onScrape('fetcher-connectors', () => scrapeConnectors(supervisor.statuses()));
  // Ready only while the services every run needs answer SERVING (their health follows their
  // own readiness: a config service whose database is down says NOT_SERVING).
  const stopPeerChecks = deps.peersInProcess
    ? () => undefined
    : stopAll([
        addReadinessCheck('fetcher: config service', () => serving(credentials, 'postbote.v1.CredentialService')),
        addReadinessCheck('fetcher: storage service', () => serving(storage, 'postbote.v1.StorageService')),
      ]);

  // Followed before the connectors, so a suspended workspace's state usually arrives before its connectors do.
  const workspaces = await followWorkspaces(bus, config.instanceId, supervisor);
  const connectors = await followConnectors(bus, config.sessionTimeoutMs, supervisor, logger);
  const fleet = new FleetView(bus, config.instanceId, config.reportEveryMs, () => instanceReport(config, connectors.owned(), supervisor, clock), clock, logger);
  await fleet.start();
  const server = await startGrpcServer({
    address: config.address,
    services: [fetcherApi(fleet, logger)],
    logger,
    descriptorSetBase64: FILE_DESCRIPTOR_SET_BASE64,
    transport: config.security.transport,
    gate: serviceGate(config.security, deps.tokens ?? remoteTokenAuthority(config.security, config.configAddress, { now: () => clock.now() }), logger),
  });
  return {
    address: server.address,
    supervisor,
    stop: async () => {
      stopScrape();
      stopPeerChecks();
      await server.stop();
      await fleet.stop();
      await connectors.close();
      await workspaces.close();
      await supervisor.stop();
      await logSink.flush();
      credentials.close();
      storage.close();
    },
  };
}

/**
 * Ownership comes from the consumer group: the partitions this instance is assigned are
 * the connectors it runs. No home-made election, no instance list.
 */
async function followConnectors(bus: Bus, sessionTimeoutMs: number, supervisor: Supervisor, logger: Logger): Promise<{ owned(): number[]; close(): Promise<void> }> {
  await bus.ensureTopics([{ topic: TOPICS.connectors, compacted: true }]);
  const owned = new Set<number>();
  const sorted = () => [...owned].sort((a, b) => a - b);
  const subscription = await bus.subscribe(
    {
      topic: TOPICS.connectors,
      groupId: 'postbote-fetchers',
      fromBeginning: true,
      sessionTimeoutMs,
      ownership: {
        assigned: (partitions) => {
          for (const p of partitions) owned.add(p);
          logger.info({ partitions: sorted() }, 'connector partitions assigned');
        },
        revoked: (partitions) => {
          for (const p of partitions) owned.delete(p);
          const stopped = supervisor.release(partitions);
          logger.info({ revoked: partitions, stopped }, 'connector partitions revoked');
        },
      },
    },
    async (m) => {
      if (!m.value) return;
      if (!owned.has(m.partition)) return; // a record fetched just before a revocation
      const e = ConnectorChanged.decode(m.value);
      if (e.kind === ConnectorChanged_Kind.UPSERTED && e.connector) supervisor.apply(e.connectorId, fetchConnector(e.connector), m.partition);
      else if (e.kind === ConnectorChanged_Kind.DELETED) supervisor.apply(e.connectorId, null);
    },
  );
  return { owned: sorted, close: () => subscription.close() };
}

/** What this instance tells the fleet (and ListFetchers) about itself. */
function instanceReport(config: FetcherServiceConfig, partitions: number[], supervisor: Supervisor, clock: Clock): FetcherInstance {
  return {
    instanceId: config.instanceId,
    partitions,
    connectors: supervisor.statuses().map((s) => ({
      connectorId: s.connectorId,
      workspace: s.workspace,
      state: STATE[s.state],
      lastSuccessAt: s.lastSuccessAt === null ? undefined : new Date(s.lastSuccessAt),
      lastError: s.lastError,
      consecutiveFailures: s.consecutiveFailures,
      revision: s.revision,
      push: s.push,
      backlog: s.backlog,
      lastErrorAt: s.lastErrorAt === null ? undefined : new Date(s.lastErrorAt),
    })),
    reportedAt: new Date(clock.now()),
    sourceAddress: config.sourceAddress ?? '',
  };
}

/**
 * ListFetchers: every instance, each with only the connectors of the caller's workspace
 * (reports of an older version name no workspace: theirs are `default`'s).
 */
function fetcherApi(fleet: FleetView, logger: Logger): ServiceRegistration {
  const implementation: FetcherServiceServer = {
    listFetchers: unary(logger, 'ListFetchers', async (_req, ctx) => ({
      instances: fleet.instances().map((i) => ({ ...i, connectors: i.connectors.filter((c) => inScope(ctx.scope, c.workspace || DEFAULT_WORKSPACE)) })),
    })),
  };
  return { name: 'postbote.v1.FetcherService', definition: FetcherServiceService, implementation };
}

function fetchConnector(c: Parameters<typeof connectorFromProto>[0]): FetchConnector {
  const record = connectorFromProto(c);
  return { id: record.id, workspace: record.workspace, revision: record.revision, settings: record };
}

/** Connector gauges from the actors' own state at scrape time: a connector this fetcher no longer runs leaves no series. */
function scrapeConnectors(statuses: readonly ActorStatus[]): void {
  fetcherMetrics.connectors.reset();
  for (const state of Object.keys(STATE) as ActorState[]) fetcherMetrics.connectors.set({ state }, statuses.filter((s) => s.state === state).length);
  fetcherMetrics.pushConnections.set(statuses.filter((s) => s.push).length);
  fetcherMetrics.waiting.reset();
  for (const s of statuses) if (s.state === 'WAITING') fetcherMetrics.waiting.inc({ workspace: workspaceLabel(s.workspace) });
  if (!connectorLabelsOn()) return;
  fetcherMetrics.lastSuccess.reset();
  fetcherMetrics.backlog.reset();
  for (const s of statuses) {
    if (s.lastSuccessAt !== null) fetcherMetrics.lastSuccess.set({ connector: s.connectorId }, Math.floor(s.lastSuccessAt / 1000));
    fetcherMetrics.backlog.set({ connector: s.connectorId }, s.backlog);
  }
}

async function serving(client: Client, service: string): Promise<void> {
  const state = await healthOf(client, service);
  if (state !== 'SERVING') throw new Error(`${service} is ${state}`);
}

const stopAll = (stops: Array<() => void>) => () => stops.forEach((stop) => stop());
