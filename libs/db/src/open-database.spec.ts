import { strict as assert } from 'node:assert';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase, SQLITE_PAGE_BYTES } from './open-database';

const Database = require('better-sqlite3') as new (file: string) => { pragma(s: string, o?: { simple: boolean }): unknown; exec(s: string): void; close(): void };

const mode = (p: string) => statSync(p).mode & 0o777;

describe('openDatabase on SQLite', () => {
  it('creates the data folder 0700 and the database file 0600 (stored mail is its owner\'s only)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pb-perm-')), 'data', 'postbote.sqlite');
    const ds = await openDatabase({ config: { kind: 'sqlite', file }, entities: [], migrations: [], migrationsTableName: 'perm_migrations' });
    await ds.destroy();
    assert.equal(mode(join(file, '..')), 0o700);
    assert.equal(mode(file), 0o600);
  });

  it('narrows a file an older version created 0644', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-perm-'));
    const file = join(dir, 'postbote.sqlite');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    const ds = await openDatabase({ config: { kind: 'sqlite', file }, entities: [], migrations: [], migrationsTableName: 'perm_migrations' });
    await ds.destroy();
    assert.equal(mode(file), 0o600);
  });

  it('gives a new database 16 KiB pages and leaves an existing one\'s page size as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-page-'));
    const fresh = join(dir, 'new.sqlite');
    const created = await openDatabase({ config: { kind: 'sqlite', file: fresh }, entities: [], migrations: [], migrationsTableName: 'page_migrations' });
    await created.destroy();
    const older = join(dir, 'old.sqlite');
    const db = new Database(older);
    db.pragma('page_size = 4096');
    db.pragma('journal_mode = WAL');
    db.exec("CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES ('written by an earlier version')");
    db.close();
    const reopened = await openDatabase({ config: { kind: 'sqlite', file: older }, entities: [], migrations: [], migrationsTableName: 'page_migrations' });
    const rows = (await reopened.query('SELECT v FROM kept')) as Array<{ v: string }>;
    await reopened.destroy();
    const pageSize = (file: string) => {
      const d = new Database(file);
      try {
        return d.pragma('page_size', { simple: true });
      } finally {
        d.close();
      }
    };
    assert.equal(pageSize(fresh), SQLITE_PAGE_BYTES);
    assert.equal(pageSize(older), 4096);
    assert.deepEqual(rows, [{ v: 'written by an earlier version' }]);
  });
});
