import { sourceAddressFromEnv } from '@postbote/mailbox';
import { join } from 'node:path';
import { TOPICS, type Bus } from '@postbote/bus';
import { Keyring } from '@postbote/crypto';
import { dataDirFromEnv, databaseConfigFromEnv, describeDatabase, gateFor, openDatabase, type DatabaseConfig } from '@postbote/db';
import { readVar, type EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';
import { startGrpcServer } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { FILE_DESCRIPTOR_SET_BASE64 } from '@postbote/proto';
import { serviceGate, serviceSecurityFromEnv, type ServiceSecurity } from '@postbote/service-clients';
import { ApiTokenEntity, AuditEntity, ConsoleUserEntity, MembershipEntity } from './access-entities';
import { accessService, authService, consoleUserService } from './access-grpc';
import { ApiTokens } from './api-tokens';
import { AuditLog } from './audit-log';
import { ConsoleUsers } from './console-users';
import { ConnectionTests } from './connection-test';
import { ConnectorEntity, TombstoneEntity } from './connector-entity';
import { ConnectorEventPublisher, WorkspaceEventPublisher } from './connector-events';
import { ConnectorRegistry } from './connector-registry';
import { connectorService, credentialService } from './grpc-handlers';
import { fileKeySource, staticKeySource, type KeySource } from './key-source';
import { CONFIG_MIGRATIONS } from './migrations';
import { refreshAccessToken } from './oauth-token-endpoint';
import { OAuthTokens } from './oauth-tokens';
import { WorkspaceEntity } from './workspace-entity';
import { workspaceService } from './workspace-grpc';
import { Workspaces } from './workspaces';
import { addReadinessCheck } from '@postbote/metrics';

/** How long deletions are republished on boot. */
const TOMBSTONE_DAYS = 30;

export type MasterKeyConfig = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'static'; readonly keyring: Keyring };

export interface ConfigServiceConfig {
  readonly address: string;
  readonly database: DatabaseConfig;
  readonly masterKeys: MasterKeyConfig;
  readonly security: ServiceSecurity;
  /** Where the first admin API token is written on a start that finds no file there. */
  readonly adminTokenFile: string;
  /** Connection tests leave from here (FETCHER_SOURCE_ADDRESS), like the fetcher's polls. */
  readonly sourceAddress?: string | null;
}

/** Reads the config service's settings once, at boot; errors name the variable. */
export function loadConfigServiceConfig(env: EnvReader): ConfigServiceConfig {
  const dataDir = dataDirFromEnv(env);
  const database = databaseConfigFromEnv(env);
  const keySpec = readVar(env, 'POSTBOTE_MASTER_KEYS');
  let masterKeys: MasterKeyConfig;
  if (keySpec === undefined) {
    masterKeys = { kind: 'file', path: readVar(env, 'POSTBOTE_MASTER_KEY_FILE') ?? join(dataDir, 'master.key') };
  } else {
    try {
      masterKeys = { kind: 'static', keyring: Keyring.parse(keySpec, readVar(env, 'POSTBOTE_MASTER_KEY_ID')) };
    } catch (err) {
      throw new ConfigError('POSTBOTE_MASTER_KEYS', (err as Error).message);
    }
  }
  return Object.freeze({
    address: readVar(env, 'CONFIG_SERVICE_ADDR'),
    database,
    masterKeys,
    security: serviceSecurityFromEnv(env),
    adminTokenFile: readVar(env, 'POSTBOTE_ADMIN_TOKEN_FILE') ?? join(dataDir, 'admin.token'),
    sourceAddress: sourceAddressFromEnv(env),
  });
}

export interface RunningConfigService {
  readonly address: string;
  readonly registry: ConnectorRegistry;
  readonly workspaces: Workspaces;
  /** The token authority: the all-in-one's other services ask it directly. */
  readonly tokens: ApiTokens;
  stop(): Promise<void>;
}

export async function startConfigService(
  config: ConfigServiceConfig,
  deps: { readonly bus: Bus; readonly logger: Logger; readonly now?: () => Date },
): Promise<RunningConfigService> {
  const logger = deps.logger;
  const now = deps.now ?? (() => new Date());
  let keys: KeySource;
  if (config.masterKeys.kind === 'file') {
    const { source, created } = fileKeySource(config.masterKeys.path);
    if (created) logger.warn({ path: config.masterKeys.path }, 'generated a new master key file (mode 0600); back it up: without it stored passwords are lost');
    keys = source;
  } else {
    keys = staticKeySource(config.masterKeys.keyring);
  }
  logger.info({ database: describeDatabase(config.database), activeKeyId: keys.keyring().activeKeyId }, 'config service starting');

  const dataSource = await openDatabase({
    config: config.database,
    entities: [ConnectorEntity, TombstoneEntity, ApiTokenEntity, AuditEntity, ConsoleUserEntity, MembershipEntity, WorkspaceEntity],
    migrations: CONFIG_MIGRATIONS,
    migrationsTableName: 'config_migrations',
  });
  await deps.bus.ensureTopics([
    { topic: TOPICS.connectors, compacted: true },
    { topic: TOPICS.workspaces, compacted: true },
  ]);
  const events = new ConnectorEventPublisher(deps.bus, logger, now);
  const workspaceEvents = new WorkspaceEventPublisher(deps.bus, logger, now);
  const gate = gateFor(config.database);
  const audit = new AuditLog(dataSource, gate, now);
  const workspaces = new Workspaces({ dataSource, gate, audit, events: workspaceEvents, logger, now });
  const tokens = new ApiTokens({ dataSource, gate, audit, workspaces, logger, now });
  await tokens.ensureAdminTokenFile(config.adminTokenFile);
  const consoleUsers = new ConsoleUsers({ dataSource, gate, audit, workspaces, logger, now });
  const registry = new ConnectorRegistry({ dataSource, gate, keys, events, audit, workspaces, logger, now });
  const endpoint = refreshAccessToken;
  const oauth = new OAuthTokens({ endpoint, storeRotated: (id, previous, next) => registry.storeRotatedRefreshToken(id, previous, next), logger, now });

  // The compacted topics converge on the database: republish every workspace and connector on boot.
  let republished = 0;
  for (const w of await workspaces.list('every')) {
    await workspaceEvents.upserted(w);
    republished++;
  }
  for await (const c of registry.all()) {
    await events.upserted(c);
    republished++;
  }
  for (const t of await registry.tombstones(TOMBSTONE_DAYS)) {
    await events.deleted(t.id, t.purgeEmailsNow);
    republished++;
  }
  logger.info({ republished }, 'workspaces and connectors topics synchronised');

  const server = await startGrpcServer({
    address: config.address,
    services: [
      connectorService(registry, new ConnectionTests(registry, workspaces, audit, oauth, endpoint, () => now().getTime(), config.sourceAddress ?? null), logger),
      credentialService(registry, oauth, logger),
      accessService(tokens, audit, logger),
      authService(tokens, logger),
      consoleUserService(consoleUsers, logger),
      workspaceService(workspaces, { dataSource, gate, audit, events, workspaceEvents, logger, now }, logger),
    ],
    logger,
    descriptorSetBase64: FILE_DESCRIPTOR_SET_BASE64,
    transport: config.security.transport,
    gate: serviceGate(config.security, tokens, logger),
  });
  const stopReadiness = addReadinessCheck('config: database', () => dataSource.query('SELECT 1').then(() => undefined));
  return {
    address: server.address,
    registry,
    workspaces,
    tokens,
    stop: async () => {
      stopReadiness();
      await server.stop();
      await events.stop();
      await workspaceEvents.stop();
      await dataSource.destroy();
    },
  };
}
