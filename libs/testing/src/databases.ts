import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import type { DatabaseConfig } from '@postbote/db';
import { tempDir } from './temp';

/**
 * Test databases. The MariaDB server comes from POSTBOTE_TEST_MYSQL_URL (default: the
 * machine's local MariaDB, root without password); each test gets its own database,
 * dropped afterwards, so test files can run in parallel.
 */
export const TEST_MYSQL_URL = process.env['POSTBOTE_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306';

export interface TestDatabase {
  readonly config: DatabaseConfig;
  drop(): Promise<void>;
}

export async function sqliteTestDatabase(): Promise<TestDatabase> {
  return { config: { kind: 'sqlite', file: join(tempDir('pb-sqlite-'), 'test.sqlite') }, drop: async () => undefined };
}

export async function mariaDbTestDatabase(): Promise<TestDatabase> {
  const name = `pb_test_${randomBytes(6).toString('hex')}`;
  const admin = await createConnection(TEST_MYSQL_URL);
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.end();
  const url = new URL(TEST_MYSQL_URL);
  url.pathname = `/${name}`;
  return {
    config: { kind: 'mysql', url: url.toString() },
    drop: async () => {
      const c = await createConnection(TEST_MYSQL_URL);
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

/** Both supported databases, for tests that must pass on each. */
export const TEST_DATABASES: ReadonlyArray<readonly [string, () => Promise<TestDatabase>]> = [
  ['SQLite', sqliteTestDatabase],
  ['MariaDB', mariaDbTestDatabase],
];
