import { join } from 'node:path';
import { readPemFile, readVar, type EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';

/** Where a service keeps its tables: the embedded SQLite file or a MariaDB/MySQL server. */
export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'mysql'; readonly url: string; readonly tls?: DatabaseTls };

/** TLS to MariaDB/MySQL: the server always verified (by `ca`, else the system CAs), a client certificate optional. */
export interface DatabaseTls {
  readonly ca: Buffer | null;
  readonly cert: Buffer | null;
  readonly key: Buffer | null;
}

/**
 * `mysql://` or `mariadb://` URLs select MariaDB/MySQL (through mysql2); no URL
 * selects the embedded SQLite file in the data folder. Anything else is refused.
 */
export function databaseConfigFrom(url: string | undefined, dataDir: string): DatabaseConfig {
  if (url === undefined || url === '') return { kind: 'sqlite', file: join(dataDir, 'postbote.sqlite') };
  if (/^(mysql|mariadb):\/\//.test(url)) return { kind: 'mysql', url: url.replace(/^mariadb:/, 'mysql:') };
  if (/^sqlite:/.test(url)) return { kind: 'sqlite', file: url.replace(/^sqlite:(\/\/)?/, '') };
  throw new Error('must start with mysql://, mariadb:// or sqlite:');
}

/** The URL with its password masked, for logs. */
export function describeDatabase(config: DatabaseConfig): string {
  if (config.kind === 'sqlite') return `sqlite:${config.file}`;
  const u = new URL(config.url);
  if (u.password) u.password = '***';
  return u.toString();
}

/** The data folder: the embedded SQLite file, key file and spool live there. */
export function dataDirFromEnv(env: EnvReader): string {
  return readVar(env, 'POSTBOTE_DATA_DIR');
}

/** DATABASE_URL (or DATABASE_URL_FILE) and DATABASE_TLS_*, read once at boot; errors name the variable. */
export function databaseConfigFromEnv(env: EnvReader): DatabaseConfig {
  let config: DatabaseConfig;
  try {
    config = databaseConfigFrom(readVar(env, 'DATABASE_URL'), dataDirFromEnv(env));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('DATABASE_URL', (err as Error).message);
  }
  const tls = databaseTlsFromEnv(env);
  if (config.kind === 'sqlite') {
    if (tls) throw new ConfigError(readVar(env, 'DATABASE_TLS_CA_FILE') ? 'DATABASE_TLS_CA_FILE' : 'DATABASE_TLS', 'applies to MariaDB/MySQL only; DATABASE_URL selects SQLite');
    return config;
  }
  return tls ? { ...config, tls } : config;
}

function databaseTlsFromEnv(env: EnvReader): DatabaseTls | undefined {
  const caFile = readVar(env, 'DATABASE_TLS_CA_FILE');
  const certFile = readVar(env, 'DATABASE_TLS_CERT_FILE');
  const keyFile = readVar(env, 'DATABASE_TLS_KEY_FILE');
  const on = readVar(env, 'DATABASE_TLS') === 'verify' || Boolean(caFile);
  if (!on) {
    if (certFile || keyFile) throw new ConfigError(certFile ? 'DATABASE_TLS_CERT_FILE' : 'DATABASE_TLS_KEY_FILE', 'a client certificate needs TLS: set DATABASE_TLS=verify or DATABASE_TLS_CA_FILE');
    return undefined;
  }
  if (Boolean(certFile) !== Boolean(keyFile)) throw new ConfigError(certFile ? 'DATABASE_TLS_KEY_FILE' : 'DATABASE_TLS_CERT_FILE', 'certificate and key are given together');
  return { ca: caFile ? readPemFile('DATABASE_TLS_CA_FILE', caFile) : null, cert: certFile ? readPemFile('DATABASE_TLS_CERT_FILE', certFile) : null, key: keyFile ? readPemFile('DATABASE_TLS_KEY_FILE', keyFile) : null };
}

