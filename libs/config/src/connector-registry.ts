import { randomUUID } from 'node:crypto';
import { IsNull, QueryFailedError, type DataSource, type Repository } from 'typeorm';
import { EVERY_WORKSPACE, type Scope } from '@postbote/auth';
import { FIELDS, SECRET_KEYS, SETTING_KEYS, resolveCreate, resolveUpdate, type ConnectorRecord, type ConnectorSettings, type ConnectorSpecInput, type Secrets } from '@postbote/connector-model';
import { SecretBox, type Secret } from '@postbote/crypto';
import { AlreadyExistsError, ConcurrencyError, NotFoundError, QuotaExceededError, ValidationError } from '@postbote/errors';
import type { Gate } from '@postbote/db';
import type { Logger } from '@postbote/logging';
import type { Actor, AuditLog } from './audit-log';
import { ConnectorEntity, TombstoneEntity, type ConnectorRow } from './connector-entity';
import type { ConnectorEventPublisher } from './connector-events';
import { applySettings, recordFromRow } from './connector-record';
import { ConnectorSecrets } from './connector-secrets';
import type { KeySource } from './key-source';
import type { WorkspaceRecord, Workspaces } from './workspaces';

export interface RegistryDeps {
  readonly dataSource: DataSource;
  /** Every database access goes through it: serialised on SQLite, outages named (see gateFor in @postbote/db). */
  readonly gate: Gate;
  readonly keys: KeySource;
  readonly events: ConnectorEventPublisher;
  /** Where a change may be made (exists, not suspended) and its quotas. */
  readonly workspaces: Workspaces;
  /** Every change is written here in its own transaction (who, what, when). */
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly now: () => Date;
}

export interface Saved {
  readonly connector: ConnectorRecord;
  readonly warnings: readonly string[];
}

export interface Page<T> {
  readonly items: T[];
  readonly nextPageToken: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROTATION_BATCH = 100;

/**
 * The config service's behaviour: connector CRUD, sealed credentials, change events. Every
 * read and change takes the scope the gate decided: a connector of another workspace is
 * found exactly as often as one that does not exist (never), by the same single query.
 */
export class ConnectorRegistry {
  readonly #repo: Repository<ConnectorRow>;
  readonly #secrets: ConnectorSecrets;

  constructor(private readonly deps: RegistryDeps) {
    this.#repo = deps.dataSource.getRepository(ConnectorEntity);
    this.#secrets = new ConnectorSecrets(new SecretBox(() => deps.keys.keyring()));
  }

  async create(scope: Scope, input: ConnectorSpecInput, actor: Actor): Promise<Saved> {
    const { settings, secrets, warnings } = resolveCreate(input);
    const workspace = await this.deps.workspaces.forChange(scope);
    checkInterval(workspace, settings.pollIntervalSeconds);
    await this.#ensureNameFree(workspace.id, settings.name, undefined);
    const id = randomUUID();
    const now = this.deps.now();
    const row = { id, workspaceId: workspace.id, revision: 1, createdAt: now, updatedAt: now, passwordCiphertext: '', passwordKeyId: '', secretsCiphertext: null, secretsKeyId: null, secretKeys: null } as ConnectorRow;
    applySettings(row, settings);
    this.#secrets.apply(row, secrets, settings);
    const max = workspace.quotas.maxConnectors;
    await this.deps
      .gate(() =>
        this.deps.dataSource.transaction(async (tx) => {
          const repo = tx.getRepository(ConnectorEntity);
          // Counted in the transaction that inserts; two creates racing past the limit by one is the worst case.
          if (max > 0 && (await repo.countBy({ workspaceId: workspace.id })) >= max) {
            throw new QuotaExceededError(`workspace ${workspace.id} has ${max} connectors, its limit; delete one or ask your provider to raise the limit`, 'quotas.max_connectors');
          }
          await repo.insert(row);
          await this.deps.audit.append(tx, actor, 'CONNECTOR_CREATED', target(id, settings.name), `${settings.protocol} ${settings.host}:${settings.port}, ${settings.security}`);
        }),
      )
      .catch((err: unknown) => this.#translateUnique(err, settings.name));
    const connector = recordFromRow(row);
    this.#logSaved('connector created', connector, warnings);
    await this.deps.events.upserted(connector);
    return { connector, warnings };
  }

  async get(scope: Scope, ref: string): Promise<ConnectorRecord> {
    return recordFromRow(await this.#find(scope, ref));
  }

  /** Pages in name order (every workspace: by workspace, then name); the token is the last key seen. */
  async list(scope: Scope, pageSize: number, pageToken: string): Promise<Page<ConnectorRecord>> {
    const size = Math.min(Math.max(pageSize || 100, 1), 1000);
    const after = pageToken ? decodeToken(pageToken) : undefined;
    const qb = this.#repo.createQueryBuilder('c').orderBy('c.workspace_id', 'ASC').addOrderBy('c.name_key', 'ASC').take(size + 1);
    if (!scope.every) qb.where('c.workspace_id = :w', { w: scope.workspace });
    if (after !== undefined) qb.andWhere('(c.workspace_id > :aw OR (c.workspace_id = :aw AND c.name_key > :an))', { aw: after.workspace, an: after.nameKey });
    const rows = await this.deps.gate(() => qb.getMany());
    const page = rows.slice(0, size);
    const last = page.at(-1);
    return { items: page.map(recordFromRow), nextPageToken: rows.length > size && last ? encodeToken(last.workspaceId, last.nameKey) : '' };
  }

  /** How many connectors a workspace has. */
  count(workspace: string): Promise<number> {
    return this.deps.gate(() => this.#repo.countBy({ workspaceId: workspace }));
  }

  async update(scope: Scope, ref: string, patch: ConnectorSpecInput, actor: Actor, expectedRevision?: number): Promise<Saved> {
    const row = await this.#find(scope, ref);
    const workspace = await this.deps.workspaces.forChange(scope);
    if (expectedRevision !== undefined && row.revision !== expectedRevision) {
      throw new ConcurrencyError(`connector ${row.id} is at revision ${row.revision}, not ${expectedRevision}; re-read and retry`);
    }
    const before = recordFromRow(row);
    const { settings, secrets, warnings } = resolveUpdate(before, patch, before.secretsSet);
    // A limit raised later does not break updates that leave the interval alone.
    if (patch.pollIntervalSeconds !== undefined) checkInterval(workspace, settings.pollIntervalSeconds);
    if (settings.name.toLowerCase() !== row.nameKey) await this.#ensureNameFree(row.workspaceId, settings.name, row.id);
    const previousRevision = row.revision;
    applySettings(row, settings);
    this.#secrets.apply(row, secrets, settings);
    const secretsChanged = SECRET_KEYS.filter((k) => secrets[k] !== undefined);
    row.revision = previousRevision + 1;
    row.updatedAt = this.deps.now();
    // Compare-and-set on the revision: two concurrent updates cannot both win.
    await this.deps
      .gate(() =>
        this.deps.dataSource.transaction(async (tx) => {
          const result = await tx
            .createQueryBuilder()
            .update(ConnectorEntity)
            .set(withoutId(row))
            .where('id = :id AND revision = :rev', { id: row.id, rev: previousRevision })
            .execute();
          if (!result.affected) throw new ConcurrencyError(`connector ${row.id} changed concurrently; re-read and retry`);
          await this.deps.audit.append(tx, actor, 'CONNECTOR_UPDATED', target(row.id, settings.name), changed(before, settings, secretsChanged));
        }),
      )
      .catch((err: unknown) => this.#translateUnique(err, settings.name));
    const connector = recordFromRow(row);
    this.#logSaved('connector updated', connector, warnings, secretsChanged);
    await this.deps.events.upserted(connector);
    return { connector, warnings };
  }

  async setEnabled(scope: Scope, ref: string, enabled: boolean, actor: Actor): Promise<ConnectorRecord> {
    return (await this.update(scope, ref, { enabled }, actor)).connector;
  }

  async delete(scope: Scope, ref: string, purgeEmailsNow: boolean, actor: Actor): Promise<string> {
    const row = await this.#find(scope, ref);
    await this.deps.workspaces.forChange(scope);
    const name = recordFromRow(row).name;
    await this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        await tx.getRepository(ConnectorEntity).delete({ id: row.id });
        await tx.getRepository(TombstoneEntity).save({ id: row.id, purgeEmailsNow, deletedAt: this.deps.now() });
        await this.deps.audit.append(tx, actor, 'CONNECTOR_DELETED', target(row.id, name), purgeEmailsNow ? 'stored emails purged at the next purge' : 'stored emails kept for their retention');
      }),
    );
    this.deps.logger.info({ connectorId: row.id, purgeEmailsNow }, 'connector deleted');
    await this.deps.events.deleted(row.id, purgeEmailsNow);
    return row.id;
  }

  /** A connector with its plaintext secrets, for a login only (a fetcher's run, a connection test). */
  async credentials(scope: Scope, ref: string): Promise<{ connector: ConnectorRecord; secrets: Secrets }> {
    const row = await this.#find(scope, ref);
    return { connector: recordFromRow(row), secrets: this.#secrets.open(row) };
  }

  /**
   * Stores a refresh token the provider rotated, unless the connector's refresh token is no
   * longer `previous` (a person stored another meanwhile: theirs wins). Not a change of the
   * connector: no new revision, no event, no restart of its actor.
   */
  async storeRotatedRefreshToken(id: string, previous: Secret, next: Secret): Promise<void> {
    await this.deps.gate(async () => {
      const row = await this.#repo.findOneBy({ id });
      if (!row || this.#secrets.open(row).oauthRefreshToken?.reveal() !== previous.reveal()) return;
      const before = row.secretsCiphertext;
      this.#secrets.replace(row, 'oauthRefreshToken', next);
      await this.#repo
        .createQueryBuilder()
        .update(ConnectorEntity)
        .set({ secretsCiphertext: row.secretsCiphertext, secretsKeyId: row.secretsKeyId, secretKeys: row.secretKeys })
        .where('id = :id AND secrets_ciphertext = :before', { id, before })
        .execute();
    });
  }

  /**
   * Re-seals every secret not under the active key. With a generating key source
   * (embedded key file) a new key is minted first. Idempotent: a crash midway leaves
   * rows under either key, both still configured, and a rerun finishes the job.
   */
  async rotateKeys(actor: Actor): Promise<{ activeKeyId: string; reencrypted: number }> {
    if (this.deps.keys.canGenerate) this.deps.keys.generate();
    const active = this.deps.keys.keyring().activeKeyId;
    let reencrypted = 0;
    for (;;) {
      const rows = await this.deps.gate(() =>
        this.#repo
          .createQueryBuilder('c')
          .where("(c.password_key_id <> :active AND c.password_ciphertext <> '') OR (c.secrets_key_id IS NOT NULL AND c.secrets_key_id <> :active)", { active })
          .take(ROTATION_BATCH)
          .getMany(),
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        const was = { passwordKeyId: row.passwordKeyId, secretsKeyId: row.secretsKeyId };
        if (!this.#secrets.reseal(row)) continue;
        const set = { passwordCiphertext: row.passwordCiphertext, passwordKeyId: row.passwordKeyId, secretsCiphertext: row.secretsCiphertext, secretsKeyId: row.secretsKeyId };
        // Only if nothing re-sealed the row meanwhile (a concurrent update or rotation).
        await this.deps.gate(() => this.#repo.update({ id: row.id, ...was, secretsKeyId: was.secretsKeyId ?? IsNull() }, set));
        reencrypted++;
      }
    }
    await this.deps.audit.record(actor, 'KEYS_ROTATED', undefined, `active key ${active}, ${reencrypted} secrets re-encrypted`);
    this.deps.logger.info({ activeKeyId: active, reencrypted }, 'master key rotation finished');
    return { activeKeyId: active, reencrypted };
  }

  /**
   * Recent deletions, for the boot-time republish. Older tombstones are dropped: after
   * `keepDays` every consumer has long seen the deletion (or read the compacted topic).
   */
  async tombstones(keepDays: number): Promise<Array<{ id: string; purgeEmailsNow: boolean }>> {
    const repo = this.deps.dataSource.getRepository(TombstoneEntity);
    const cutoff = new Date(this.deps.now().getTime() - keepDays * 86_400_000);
    await this.deps.gate(() => repo.createQueryBuilder().delete().where('deleted_at < :cutoff', { cutoff }).execute());
    return (await repo.find()).map((t) => ({ id: t.id, purgeEmailsNow: Boolean(t.purgeEmailsNow) }));
  }

  /** Every connector of a scope (every workspace: the boot-time republish to the compacted topic). */
  async *all(scope: Scope = EVERY_WORKSPACE): AsyncGenerator<ConnectorRecord> {
    let token = '';
    do {
      const page = await this.list(scope, 500, token);
      yield* page.items;
      token = page.nextPageToken;
    } while (token);
  }

  async #find(scope: Scope, ref: string): Promise<ConnectorRow> {
    const value = ref.trim();
    if (value === '') throw ValidationError.single('ref', 'required', 'must be a connector id or name');
    // Checked before use and before it is quoted back: a ref is an id or a name, no more.
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    if (value.length > FIELDS.name.maxLength || /[\u0000-\u001f\u007f]/.test(value)) throw ValidationError.single('ref', 'ref', 'must be a connector id or name');
    const where = { ...(UUID.test(value) ? { id: value.toLowerCase() } : { nameKey: value.toLowerCase() }), ...(scope.every ? {} : { workspaceId: scope.workspace }) };
    // Names repeat across workspaces: outside one, only an id names a connector.
    const rows = await this.deps.gate(() => this.#repo.find({ where, take: 2 }));
    const row = rows.length === 1 ? rows[0] : undefined;
    if (!row) throw new NotFoundError(`no connector "${value}"`);
    return row;
  }

  async #ensureNameFree(workspace: string, name: string, selfId: string | undefined): Promise<void> {
    const other = await this.deps.gate(() => this.#repo.findOneBy({ workspaceId: workspace, nameKey: name.toLowerCase() }));
    if (other && other.id !== selfId) throw nameTaken(name);
  }

  // The pre-check above gives the common case a clean error; this catches the race
  // where two creates with the same name pass it at once.
  #translateUnique(err: unknown, name: string): never {
    if (err instanceof QueryFailedError && /UNIQUE|Duplicate entry/i.test(err.message)) throw nameTaken(name);
    throw err;
  }

  #logSaved(msg: string, c: ConnectorRecord, warnings: readonly string[], secretsChanged: readonly string[] = []): void {
    const fields = { connectorId: c.id, name: c.name, protocol: c.protocol, security: c.security, authType: c.authType, revision: c.revision, secretsChanged };
    if (warnings.length) this.deps.logger.warn({ ...fields, warnings }, msg);
    else this.deps.logger.info(fields, msg);
  }
}

/** A connector's interval against its workspace's shortest allowed one. */
function checkInterval(workspace: WorkspaceRecord, seconds: number): void {
  const min = workspace.quotas.minPollIntervalSeconds;
  if (min > 0 && seconds < min) throw ValidationError.single('spec.poll_interval_seconds', 'workspace-minimum', `must be at least ${min} s in workspace ${workspace.id}`);
}

function target(id: string, name: string) {
  return { type: 'connector' as const, id, name };
}

/** The audit detail of an update: which settings changed (never their values where secret). */
function changed(before: ConnectorSettings, after: ConnectorSettings, secretsChanged: readonly string[]): string {
  const keys: string[] = [...SETTING_KEYS.filter((k) => before[k] !== after[k]), ...secretsChanged];
  return keys.length ? `changed: ${keys.join(', ')}` : 'no change';
}

function nameTaken(name: string): AlreadyExistsError {
  return new AlreadyExistsError(`spec.name: a connector named "${name}" already exists (names are unique, ignoring case)`, 'spec.name');
}

function withoutId(row: ConnectorRow): Omit<ConnectorRow, 'id'> {
  const { id: _id, ...rest } = row;
  return rest;
}

function encodeToken(workspace: string, nameKey: string): string {
  return Buffer.from(`${workspace}\n${nameKey}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): { workspace: string; nameKey: string } {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  const at = decoded.indexOf('\n');
  const value = { workspace: decoded.slice(0, at), nameKey: decoded.slice(at + 1) };
  if (at < 0 || encodeToken(value.workspace, value.nameKey) !== token) throw ValidationError.single('page_token', 'invalid', 'is not a token from a previous page');
  return value;
}

