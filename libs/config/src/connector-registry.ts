import { randomUUID } from 'node:crypto';
import { IsNull, QueryFailedError, type DataSource, type Repository } from 'typeorm';
import { LIMITS, SECRET_KEYS, SETTING_KEYS, resolveCreate, resolveUpdate, type ConnectorRecord, type ConnectorSettings, type ConnectorSpecInput, type Secrets } from '@postbote/connector-model';
import { SecretBox, type Secret } from '@postbote/crypto';
import { AlreadyExistsError, ConcurrencyError, NotFoundError, ValidationError } from '@postbote/errors';
import type { Gate } from '@postbote/db';
import type { Logger } from '@postbote/logging';
import type { Actor, AuditLog } from './audit-log';
import { ConnectorEntity, TombstoneEntity, type ConnectorRow } from './connector-entity';
import type { ConnectorEventPublisher } from './connector-events';
import { applySettings, recordFromRow } from './connector-record';
import { ConnectorSecrets } from './connector-secrets';
import type { KeySource } from './key-source';

export interface RegistryDeps {
  readonly dataSource: DataSource;
  /** Every database access goes through it: serialised on SQLite, outages named (see gateFor in @postbote/db). */
  readonly gate: Gate;
  readonly keys: KeySource;
  readonly events: ConnectorEventPublisher;
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

/** The config service's behaviour: connector CRUD, sealed credentials, change events. */
export class ConnectorRegistry {
  readonly #repo: Repository<ConnectorRow>;
  readonly #secrets: ConnectorSecrets;

  constructor(private readonly deps: RegistryDeps) {
    this.#repo = deps.dataSource.getRepository(ConnectorEntity);
    this.#secrets = new ConnectorSecrets(new SecretBox(() => deps.keys.keyring()));
  }

  async create(input: ConnectorSpecInput, actor: Actor): Promise<Saved> {
    const { settings, secrets, warnings } = resolveCreate(input);
    await this.#ensureNameFree(settings.name, undefined);
    const id = randomUUID();
    const now = this.deps.now();
    const row = { id, revision: 1, createdAt: now, updatedAt: now, passwordCiphertext: '', passwordKeyId: '', secretsCiphertext: null, secretsKeyId: null, secretKeys: null } as ConnectorRow;
    applySettings(row, settings);
    this.#secrets.apply(row, secrets, settings);
    await this.deps
      .gate(() =>
        this.deps.dataSource.transaction(async (tx) => {
          await tx.getRepository(ConnectorEntity).insert(row);
          await this.deps.audit.append(tx, actor, 'CONNECTOR_CREATED', target(id, settings.name), `${settings.protocol} ${settings.host}:${settings.port}, ${settings.security}`);
        }),
      )
      .catch((err: unknown) => this.#translateUnique(err, settings.name));
    const connector = recordFromRow(row);
    this.#logSaved('connector created', connector, warnings);
    await this.deps.events.upserted(connector);
    return { connector, warnings };
  }

  async get(ref: string): Promise<ConnectorRecord> {
    return recordFromRow(await this.#find(ref));
  }

  /** Pages in name order; the token is the last name_key seen. */
  async list(pageSize: number, pageToken: string): Promise<Page<ConnectorRecord>> {
    const size = Math.min(Math.max(pageSize || 100, 1), 1000);
    const after = pageToken ? decodeToken(pageToken) : undefined;
    const qb = this.#repo.createQueryBuilder('c').orderBy('c.name_key', 'ASC').take(size + 1);
    if (after !== undefined) qb.where('c.name_key > :after', { after });
    const rows = await this.deps.gate(() => qb.getMany());
    const page = rows.slice(0, size);
    const last = page.at(-1);
    return { items: page.map(recordFromRow), nextPageToken: rows.length > size && last ? encodeToken(last.nameKey) : '' };
  }

  async update(ref: string, patch: ConnectorSpecInput, actor: Actor, expectedRevision?: number): Promise<Saved> {
    const row = await this.#find(ref);
    if (expectedRevision !== undefined && row.revision !== expectedRevision) {
      throw new ConcurrencyError(`connector ${row.id} is at revision ${row.revision}, not ${expectedRevision}; re-read and retry`);
    }
    const before = recordFromRow(row);
    const { settings, secrets, warnings } = resolveUpdate(before, patch, before.secretsSet);
    if (settings.name.toLowerCase() !== row.nameKey) await this.#ensureNameFree(settings.name, row.id);
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

  async setEnabled(ref: string, enabled: boolean, actor: Actor): Promise<ConnectorRecord> {
    return (await this.update(ref, { enabled }, actor)).connector;
  }

  async delete(ref: string, purgeEmailsNow: boolean, actor: Actor): Promise<string> {
    const row = await this.#find(ref);
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
  async credentials(id: string): Promise<{ connector: ConnectorRecord; secrets: Secrets }> {
    const row = await this.#find(id);
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

  /** Every connector, for the boot-time republish to the compacted topic. */
  async *all(): AsyncGenerator<ConnectorRecord> {
    let token = '';
    do {
      const page = await this.list(500, token);
      yield* page.items;
      token = page.nextPageToken;
    } while (token);
  }

  async #find(ref: string): Promise<ConnectorRow> {
    const value = ref.trim();
    if (value === '') throw ValidationError.single('ref', 'required', 'must be a connector id or name');
    // Checked before use and before it is quoted back: a ref is an id or a name, no more.
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    if (value.length > LIMITS.nameMaxLength || /[\u0000-\u001f\u007f]/.test(value)) throw ValidationError.single('ref', 'ref', 'must be a connector id or name');
    const row = await this.deps.gate(() => (UUID.test(value) ? this.#repo.findOneBy({ id: value.toLowerCase() }) : this.#repo.findOneBy({ nameKey: value.toLowerCase() })));
    if (!row) throw new NotFoundError(`no connector "${value}"`);
    return row;
  }

  async #ensureNameFree(name: string, selfId: string | undefined): Promise<void> {
    const other = await this.deps.gate(() => this.#repo.findOneBy({ nameKey: name.toLowerCase() }));
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

function encodeToken(nameKey: string): string {
  return Buffer.from(nameKey, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const decoded = Buffer.from(token, 'base64url').toString('utf8');
  if (encodeToken(decoded) !== token) throw ValidationError.single('page_token', 'invalid', 'is not a token from a previous page');
  return decoded;
}

