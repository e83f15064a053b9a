// The relay reads and marks what is waiting in the outbox on every batch; the outbox keeps every
// event for the retention period. Those queries must read what is waiting, not the history:
// on SQLite they once went through the parked index, where every row never parked matches
// (migration OutboxWaitingIndex1768262400000). Checked on the plans the database makes for
// the very statements OutboxStore sends, on SQLite and MariaDB, with a history behind them.
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { gateFor, openDatabase, transactionRunner, type DatabaseConfig, type TransactionRunner } from '@postbote/db';
import { OutboxEntity } from '@postbote/email-outbox';
import { STORAGE_MIGRATIONS } from '@postbote/storage';
import { mariaDbTestDatabase, tempDir } from '@postbote/testing';
import { OutboxStore } from '@postbote/trigger';

const HISTORY = 5_000;

/** Every statement the DataSource and the runner send from now on, with its parameters. */
function recordStatements(ds: DataSource, runner: TransactionRunner): { seen: Array<{ sql: string; params: unknown[] }>; runner: TransactionRunner } {
  const seen: Array<{ sql: string; params: unknown[] }> = [];
  const logger = ds.logger;
  Object.assign(ds, {
    logger: Object.assign(Object.create(logger) as object, {
      logQuery: (sql: string, params?: unknown[]) => void seen.push({ sql, params: params ?? [] }),
    }),
  });
  const recording: TransactionRunner = {
    dialect: runner.dialect,
    run: (statements) => {
      for (const s of statements) seen.push({ sql: s.sql, params: [...s.params] });
      return runner.run(statements);
    },
    close: () => runner.close(),
  };
  return { seen, runner: recording };
}

async function history(ds: DataSource, kind: DatabaseConfig['kind']): Promise<void> {
  const at = '2026-12-01 00:00:00.000';
  const row = (published: string | null, parked: string | null) => [randomUUID(), randomUUID(), 'c-1', 'default', Buffer.alloc(400), at, published, parked];
  const rows = [...Array.from({ length: HISTORY }, () => row(at, null)), row(null, at), row(null, at), row(null, null), row(null, null), row(null, null)];
  for (let i = 0; i < rows.length; i += 500) {
    const part = rows.slice(i, i + 500);
    await ds.query(`INSERT INTO trigger_outbox (event_id, email_id, connector_id, workspace_id, payload, created_at, published_at, parked_at) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`, part.flat());
  }
  // InnoDB refreshes its statistics in the background after a bulk change; at once here.
  if (kind === 'mysql') await ds.query('ANALYZE TABLE trigger_outbox');
}

/** The index (or table scan) the database picks for a statement. */
async function plan(ds: DataSource, kind: DatabaseConfig['kind'], sql: string, params: unknown[]): Promise<string> {
  const rows = (await ds.query(`${kind === 'sqlite' ? 'EXPLAIN QUERY PLAN' : 'EXPLAIN'} ${sql}`, params)) as Array<Record<string, unknown>>;
  return rows.map((r) => (kind === 'sqlite' ? String(r['detail']) : `${String(r['type'])} ${String(r['key'])}`)).join('; ');
}

describe('the outbox relay\'s statements read what is waiting, not the history', () => {
  for (const kind of ['sqlite', 'mysql'] as const) {
    it(`${kind === 'sqlite' ? 'SQLite' : 'MariaDB'}: pending, mark published, backlog and position checks use the waiting index`, async () => {
      const db = kind === 'mysql' ? await mariaDbTestDatabase() : undefined;
      const database: DatabaseConfig = db ? db.config : { kind: 'sqlite', file: join(tempDir('pb-outbox-'), 'postbote.sqlite') };
      const ds = await openDatabase({ config: database, entities: [OutboxEntity], migrations: STORAGE_MIGRATIONS, migrationsTableName: 'storage_migrations' });
      try {
        await history(ds, kind);
        const gate = gateFor(database);
        const { seen, runner } = recordStatements(ds, transactionRunner(database, ds, gate));
        const store = new OutboxStore(ds, gate, runner);
        const waiting = await store.pending(-1, 100);
        assert.equal(waiting.length, 3, 'the three waiting rows, not the parked ones');
        const first = waiting[0]!;
        assert.deepEqual({ ...first, payload: first.payload.length, eventId: typeof first.eventId }, { id: HISTORY + 3, eventId: 'string', emailId: first.emailId, connectorId: 'c-1', workspaceId: 'default', payload: 400 });
        assert.ok(Buffer.isBuffer(first.payload));
        const last = waiting.at(-1)!.id;
        const lag = await store.lag();
        assert.deepEqual({ pending: lag.pending, parked: lag.parked, oldest: lag.oldest instanceof Date }, { pending: 3, parked: 2, oldest: true });
        assert.equal((await store.around(last)).pendingUpTo, 3);
        assert.equal(await store.markPublished(last, new Date()), 3);
        const onWaiting = seen.filter((s) => /trigger_outbox/i.test(s.sql) && /published_at.{0,12}IS NULL/i.test(s.sql));
        assert.ok(onWaiting.length >= 4, `statements on waiting rows: ${onWaiting.map((s) => s.sql).join(' | ')}`);
        for (const s of onWaiting) {
          const p = await plan(ds, kind, s.sql, s.params);
          assert.match(p, /idx_trigger_outbox_waiting/, `${s.sql}\n→ ${p}`);
        }
        await runner.close();
      } finally {
        await ds.destroy();
        await db?.drop();
      }
    });
  }
});
