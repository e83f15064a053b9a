import { strict as assert } from 'node:assert';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase } from './open-database';

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
});
