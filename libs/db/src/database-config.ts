import { join } from 'node:path';
import { readVar, type EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';

/** Where a service keeps its tables: the embedded SQLite file or a MariaDB/MySQL server. */
export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'mysql'; readonly url: string };

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

/** DATABASE_URL (or DATABASE_URL_FILE), read once at boot; errors name the variable. */
export function databaseConfigFromEnv(env: EnvReader): DatabaseConfig {
  try {
    return databaseConfigFrom(readVar(env, 'DATABASE_URL'), dataDirFromEnv(env));
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError('DATABASE_URL', (err as Error).message);
  }
}
