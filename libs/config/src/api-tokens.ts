import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSource } from 'typeorm';
import { isRole, isTokenId, mintToken, parseToken, secretMatches, type Role, type TokenAuthenticator, type TokenPrincipal } from '@postbote/auth';
import { NotFoundError, ValidationError, hasDeceptiveCharacters } from '@postbote/errors';
import type { Gate } from '@postbote/db';
import type { Logger } from '@postbote/logging';
import { ApiTokenEntity, type ApiTokenRow } from './access-entities';
import type { Actor, AuditLog } from './audit-log';
import { SYSTEM } from './audit-log';

const DAY_MS = 86_400_000;
const MAX_VALID_DAYS = 3650;
/** `last_used_at` is refreshed at most this often per token: a busy token must not mean a write per call. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface ApiTokensDeps {
  readonly dataSource: DataSource;
  readonly gate: Gate;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly now: () => Date;
}

/**
 * API tokens: created by admins (or once, at first start, for the first admin), shown
 * once, stored as hashes, revocable, optionally expiring. This is also the authority
 * every service asks (directly in the all-in-one, through AuthService otherwise).
 */
export class ApiTokens implements TokenAuthenticator {
  readonly #lastUsedWritten = new Map<string, number>();

  constructor(private readonly deps: ApiTokensDeps) {}

  async create(input: { name: string; role: string; validDays: number }, actor: Actor): Promise<{ row: ApiTokenRow; token: string }> {
    const name = input.name.trim();
    const violations = [];
    if (name === '' || name.length > 100) violations.push({ field: 'name', rule: 'length', message: 'must be 1 to 100 characters' });
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    else if (/[\u0000-\u001f\u007f]/.test(name) || hasDeceptiveCharacters(name)) violations.push({ field: 'name', rule: 'visible', message: 'must not contain control, zero-width or bidirectional characters' });
    if (!isRole(input.role)) violations.push({ field: 'role', rule: 'required', message: 'must be admin, operator, viewer or ingest' });
    if (!Number.isInteger(input.validDays) || input.validDays < 0 || input.validDays > MAX_VALID_DAYS) {
      violations.push({ field: 'valid_days', rule: 'range', message: `must be 0 (never expires) to ${MAX_VALID_DAYS}` });
    }
    if (violations.length) throw new ValidationError(violations);
    const minted = mintToken();
    const now = this.deps.now();
    const row: ApiTokenRow = {
      id: minted.id,
      name,
      role: input.role,
      secretHash: minted.secretHash,
      createdAt: now,
      createdBy: actor.who.slice(0, 200),
      expiresAt: input.validDays ? new Date(now.getTime() + input.validDays * DAY_MS) : null,
      revokedAt: null,
      lastUsedAt: null,
      consoleUser: null,
    };
    await this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        await tx.getRepository(ApiTokenEntity).insert(row);
        await this.deps.audit.append(tx, actor, 'TOKEN_CREATED', { type: 'token', id: row.id, name }, `role ${row.role}${row.expiresAt ? `, expires ${row.expiresAt.toISOString()}` : ', never expires'}`);
      }),
    );
    this.deps.logger.info({ tokenId: row.id, role: row.role, by: actor.who }, 'API token created');
    return { row, token: minted.token };
  }

  list(includeRevoked: boolean): Promise<ApiTokenRow[]> {
    // Console sessions are tokens too, but people manage them by signing in and out.
    const qb = this.deps.dataSource.getRepository(ApiTokenEntity).createQueryBuilder('t').where('t.console_user IS NULL').orderBy('t.created_at', 'ASC');
    if (!includeRevoked) qb.andWhere('t.revoked_at IS NULL');
    return this.deps.gate(() => qb.getMany());
  }

  async revoke(id: string, actor: Actor): Promise<ApiTokenRow> {
    const key = id.trim().toLowerCase();
    if (!isTokenId(key)) throw ValidationError.single('id', 'token-id', 'must be a token id (12 hex digits, as `tokens list` shows)');
    return this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        const repo = tx.getRepository(ApiTokenEntity);
        const row = await repo.findOneBy({ id: key });
        if (!row) throw new NotFoundError(`no API token ${key}`);
        if (!row.revokedAt) {
          row.revokedAt = this.deps.now();
          await repo.update({ id: key }, { revokedAt: row.revokedAt });
          await this.deps.audit.append(tx, actor, 'TOKEN_REVOKED', { type: 'token', id: key, name: row.name });
          this.deps.logger.info({ tokenId: key, by: actor.who }, 'API token revoked');
        }
        return row;
      }),
    );
  }

  async authenticate(token: string): Promise<TokenPrincipal | null> {
    const parsed = parseToken(token);
    if (!parsed) return null;
    const row = await this.deps.gate(() => this.deps.dataSource.getRepository(ApiTokenEntity).findOneBy({ id: parsed.id }));
    if (!row || !secretMatches(parsed.secret, row.secretHash) || row.revokedAt || !isRole(row.role)) return null;
    const now = this.deps.now();
    if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) return null;
    this.#touch(row.id, now);
    return { kind: 'token', tokenId: row.id, name: row.name, role: row.role as Role, expiresAt: row.expiresAt };
  }

  /**
   * The first admin token: written to `path` (mode 0600, in a 0700 folder if it creates
   * one) when no file is there. An existing file is left alone even if this database does
   * not accept it — deleting the file and restarting mints a new one; a revoked first
   * token is never brought back behind an admin's back.
   */
  async ensureAdminTokenFile(path: string): Promise<'created' | 'present' | 'stale'> {
    if (existsSync(path)) {
      const held = readFileSync(path, 'utf8').trim();
      if (await this.authenticate(held)) return 'present';
      this.deps.logger.warn({ path }, 'the admin token file holds a token this database does not accept (revoked, expired, or from another database); delete the file and restart to mint a new one');
      return 'stale';
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const { token } = await this.create({ name: 'admin (first start)', role: 'admin', validDays: 0 }, SYSTEM);
    // 'wx': never overwrite a file another instance wrote meanwhile.
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `${token}\n`);
    } finally {
      closeSync(fd);
    }
    this.deps.logger.warn({ path }, 'created the first admin API token (mode 0600); the CLI run with the same data folder uses it; keep it like a password');
    return 'created';
  }

  #touch(id: string, now: Date): void {
    const last = this.#lastUsedWritten.get(id) ?? 0;
    if (now.getTime() - last < LAST_USED_RESOLUTION_MS) return;
    this.#lastUsedWritten.set(id, now.getTime());
    this.deps
      .gate(() => this.deps.dataSource.getRepository(ApiTokenEntity).update({ id }, { lastUsedAt: now }))
      .catch((err: unknown) => this.deps.logger.debug({ err, tokenId: id }, 'could not record when a token was last used'));
  }
}
