import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource, type EntitySchema, type EntitySubscriberInterface, type MixedList, type TransactionStartEvent } from 'typeorm';
import { ConfigError, UnavailableError } from '@postbote/errors';
import type { DatabaseConfig } from './database-config';
import { SQLITE_BUSY_TIMEOUT_MS } from './sqlite-busy';

export interface OpenDatabaseOptions {
  readonly config: DatabaseConfig;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly entities: EntitySchema<any>[];
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly migrations: MixedList<Function>;
  /** Each service owns its tables and keeps its own migration history. */
  readonly migrationsTableName: string;
}

/** The page size of a new SQLite database (an existing one keeps its own; decision 0034). */
export const SQLITE_PAGE_BYTES = 16 * 1024;

/**
 * Opens a TypeORM DataSource and brings the schema up to date with the service's
 * migrations (never `synchronize`). On MariaDB a named lock serialises migrations,
 * so several instances of a service can boot at once.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DataSource> {
  const { config } = options;
  const common = {
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: options.migrationsTableName,
    synchronize: false,
    logging: false,
  } as const;
  let ds: DataSource;
  if (config.kind === 'sqlite') {
    restrictSqliteFile(config.file);
    ds = new DataSource({
      ...common,
      type: 'better-sqlite3',
      database: config.file,
      // WAL lets readers proceed during a write; several services share the file in the all-in-one.
      enableWAL: true,
      timeout: SQLITE_BUSY_TIMEOUT_MS,
      subscribers: [writeLockFirst(options.migrationsTableName)],
      prepareDatabase: (db: { pragma(s: string): unknown }) => {
        // Takes effect only while the file is still empty (before WAL mode and the first
        // table): a new database gets 16 KiB pages, an existing one keeps its own (decision
        // 0034). Raw mail is written as ~40 KB rows; with 4 KiB pages each is ten overflow
        // pages, each a WAL frame written and checkpointed on its own — 16 KiB pages cut the
        // writer's CPU per stored email by ~40 %.
        db.pragma(`page_size = ${SQLITE_PAGE_BYTES}`);
        db.pragma('foreign_keys = ON');
        // FULL: a commit is on disk when it returns, also across a power loss (NORMAL in
        // WAL mode may lose the last commits then). A fetcher deletes or moves mail on its
        // server once storage confirmed a commit, so that confirmation must be durable;
        // group commit keeps the cost at one sync per group, not per email.
        db.pragma('synchronous = FULL');
      },
    });
  } else {
    ds = new DataSource({
      ...common,
      type: 'mysql',
      connectorPackage: 'mysql2',
      url: config.url,
      charset: 'utf8mb4_bin',
      timezone: 'Z',
      supportBigNumbers: true,
      bigNumberStrings: false,
      poolSize: 10,
      extra: { connectTimeout: 10_000 },
      // Verified always: a certificate that does not chain to the CA, or names another host, is refused.
      ...(config.tls ? { ssl: { ca: config.tls.ca ?? undefined, cert: config.tls.cert ?? undefined, key: config.tls.key ?? undefined, rejectUnauthorized: true } } : {}),
    });
  }
  try {
    await ds.initialize();
  } catch (err) {
    throw openFailure(err, config);
  }
  try {
    await migrate(ds, config, options.migrationsTableName);
  } catch (err) {
    await ds.destroy().catch(() => undefined);
    throw err;
  }
  return ds;
}

/**
 * Makes every SQLite transaction take the write lock at its start, as BEGIN IMMEDIATE would
 * (TypeORM always says BEGIN). A deferred transaction that reads and then writes holds a
 * snapshot when it asks for the lock; if another connection committed meanwhile — the
 * storage service's writer thread does, all the time, in the all-in-one — SQLite answers
 * SQLITE_BUSY at once instead of waiting. Asked first, the lock is waited for (busy
 * timeout). A write statement that matches no row is enough to take it; the migrations
 * table exists in every service's database.
 */
function writeLockFirst(table: string): new () => EntitySubscriberInterface {
  return class WriteLockFirst implements EntitySubscriberInterface {
    async afterTransactionStart(event: TransactionStartEvent): Promise<void> {
      await event.queryRunner.query(`UPDATE "${table}" SET "id" = "id" WHERE 0`);
    }
  };
}

async function migrate(ds: DataSource, config: DatabaseConfig, table: string): Promise<void> {
  if (config.kind === 'sqlite') {
    await ds.runMigrations({ transaction: 'each' });
    return;
  }
  const runner = ds.createQueryRunner();
  try {
    await runner.connect();
    const [row] = (await runner.query('SELECT GET_LOCK(?, 60) AS got', [`postbote:${table}`])) as Array<{ got: number }>;
    if (row?.got !== 1) throw new UnavailableError(`timed out waiting for the migration lock of ${table}`);
    try {
      await ds.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT RELEASE_LOCK(?)', [`postbote:${table}`]);
    }
  } finally {
    await runner.release();
  }
}

/**
 * The SQLite file holds every stored email: readable by its owner only. A folder created
 * here is 0700; the file is created 0600 (SQLite gives its -wal and -shm files the same
 * mode), and an existing file from an older version is narrowed to 0600.
 */
function restrictSqliteFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}

/** Codes Node's TLS gives a server certificate it cannot trust for this host. */
const UNTRUSTED = new Set(['HANDSHAKE_SSL_ERROR', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

/**
 * Why a database could not be opened: a refusal no retry will change (an untrusted
 * certificate, a refused login, a server that wants TLS) is a configuration error naming
 * the variable to fix, so the service stops at boot saying so; anything else is an outage.
 */
function openFailure(err: unknown, config: DatabaseConfig): Error {
  const code = String((err as { code?: unknown })?.code ?? '');
  const message = (err as Error)?.message ?? String(err);
  if (config.kind === 'mysql') {
    if (UNTRUSTED.has(code)) return new ConfigError('DATABASE_TLS_CA_FILE', `the database server's certificate is not trusted (${message}); give the CA that signed it`);
    if (code === 'ER_SECURE_TRANSPORT_REQUIRED' || /insecure transport/i.test(message)) return new ConfigError('DATABASE_TLS', `the database server accepts TLS connections only (${message}): set DATABASE_TLS=verify and DATABASE_TLS_CA_FILE`);
    if (code === 'ER_ACCESS_DENIED_ERROR' || code === 'ER_DBACCESS_DENIED_ERROR') {
      return new ConfigError('DATABASE_URL', `the database refused the login (${message})${config.tls ? '' : '; a server that requires TLS refuses plaintext logins too (DATABASE_TLS)'}`);
    }
  }
  return new UnavailableError(`database unreachable: ${message}`, { cause: err });
}
