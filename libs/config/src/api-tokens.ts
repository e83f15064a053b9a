import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSource } from 'typeorm';
import {
  INSTALLATION_ADMIN,
  accessOf,
  isAnyRole,
  isRole,
  isTokenId,
  mayGrant,
  mintToken,
  parseToken,
  secretMatches,
  type Access,
  type Principal,
  type Role,
  type Scope,
  type TokenAuthenticator,
  type TokenPrincipal,
} from '@postbote/auth';
import { NotFoundError, PermissionDeniedError, ValidationError, checkLabel, type Violation } from '@postbote/errors';
import type { Gate } from '@postbote/db';
import type { Logger } from '@postbote/logging';
import { ApiTokenEntity, ConsoleUserEntity, MembershipEntity, type ApiTokenRow } from './access-entities';
import type { Actor, AuditLog } from './audit-log';
import { SYSTEM } from './audit-log';
import type { Workspaces } from './workspaces';

const DAY_MS = 86_400_000;
const MAX_VALID_DAYS = 3650;
/** `last_used_at` is refreshed at most this often per token: a busy token must not mean a write per call. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface ApiTokensDeps {
  readonly dataSource: DataSource;
  readonly gate: Gate;
  readonly audit: AuditLog;
  readonly workspaces: Workspaces;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** Who asks: the scope the gate decided and the caller, who may see (and hand out) installation tokens only if one themselves. */
export interface TokenCaller {
  readonly scope: Scope;
  readonly principal: Principal;
}

/**
 * API tokens: created by admins (or once, at first start, for the first installation
 * admin), shown once, stored as hashes, revocable, optionally expiring. A token acts in the
 * workspace it was created in (an installation admin's in every one). This is also the
 * authority every service asks (directly in the all-in-one, through AuthService otherwise);
 * a console session's rights are its person's memberships, read at each answer, so a
 * membership removed reaches the services like a revocation.
 */
export class ApiTokens implements TokenAuthenticator {
  readonly #lastUsedWritten = new Map<string, number>();

  constructor(private readonly deps: ApiTokensDeps) {}

  async create(caller: TokenCaller | null, input: { name: string; role: string; validDays: number }, actor: Actor): Promise<{ row: ApiTokenRow; token: string }> {
    const name = input.name.trim();
    const violations: Violation[] = [];
    const label = checkLabel('name', input.name, 1, 100);
    if (label) violations.push(...label.violations);
    if (!isAnyRole(input.role)) violations.push({ field: 'role', rule: 'required', message: 'must be installation-admin, admin, operator, viewer or ingest' });
    if (!Number.isInteger(input.validDays) || input.validDays < 0 || input.validDays > MAX_VALID_DAYS) {
      violations.push({ field: 'valid_days', rule: 'range', message: `must be 0 (never expires) to ${MAX_VALID_DAYS}` });
    }
    if (violations.length) throw new ValidationError(violations);
    const role = input.role as Role | typeof INSTALLATION_ADMIN;
    if (caller && !mayGrant(caller.principal, role)) throw new PermissionDeniedError('only an installation admin creates installation admin tokens', { reason: 'ROLE_NOT_PERMITTED' });
    const workspace = role === INSTALLATION_ADMIN ? null : caller ? (await this.deps.workspaces.forChange(caller.scope)).id : null;
    const minted = mintToken();
    const now = this.deps.now();
    const row: ApiTokenRow = {
      id: minted.id,
      name,
      role,
      workspaceId: workspace,
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
        // An installation token is the installation's business; a workspace token its workspace's.
        await this.deps.audit.append(tx, { ...actor, workspace: workspace ?? '' }, 'TOKEN_CREATED', { type: 'token', id: row.id, name }, `role ${row.role}${row.expiresAt ? `, expires ${row.expiresAt.toISOString()}` : ', never expires'}`);
      }),
    );
    this.deps.logger.info({ tokenId: row.id, role: row.role, workspace, by: actor.who }, 'API token created');
    return { row, token: minted.token };
  }

  /** The scope's tokens (and, for an installation admin, the installation's); never console sessions. */
  list(caller: TokenCaller, includeRevoked: boolean): Promise<ApiTokenRow[]> {
    // Console sessions are tokens too, but people manage them by signing in and out.
    const qb = this.deps.dataSource.getRepository(ApiTokenEntity).createQueryBuilder('t').where('t.console_user IS NULL').orderBy('t.created_at', 'ASC');
    if (!includeRevoked) qb.andWhere('t.revoked_at IS NULL');
    if (!caller.scope.every) qb.andWhere(installationToo(caller) ? '(t.workspace_id = :w OR t.workspace_id IS NULL)' : 't.workspace_id = :w', { w: caller.scope.workspace });
    return this.deps.gate(() => qb.getMany());
  }

  async revoke(caller: TokenCaller, id: string, actor: Actor): Promise<ApiTokenRow> {
    const key = id.trim().toLowerCase();
    if (!isTokenId(key)) throw ValidationError.single('id', 'token-id', 'must be a token id (12 hex digits, as `tokens list` shows)');
    return this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        const repo = tx.getRepository(ApiTokenEntity);
        const row = await repo.findOneBy({ id: key });
        // Another workspace's token is not there, for this caller.
        if (!row || row.consoleUser !== null || !visible(caller, row.workspaceId)) throw new NotFoundError(`no API token ${key}`);
        if (!row.revokedAt) {
          row.revokedAt = this.deps.now();
          await repo.update({ id: key }, { revokedAt: row.revokedAt });
          await this.deps.audit.append(tx, { ...actor, workspace: row.workspaceId ?? '' }, 'TOKEN_REVOKED', { type: 'token', id: key, name: row.name });
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
    if (!row || !secretMatches(parsed.secret, row.secretHash) || row.revokedAt) return null;
    const now = this.deps.now();
    if (row.expiresAt && row.expiresAt.getTime() <= now.getTime()) return null;
    const access = row.consoleUser !== null ? await this.#personAccess(row.consoleUser) : tokenAccess(row);
    if (!access) return null;
    this.#touch(row.id, now);
    return { kind: 'token', tokenId: row.id, name: row.name, access, expiresAt: row.expiresAt };
  }

  /** A console session's rights: its person's, as they are now (null: the person is gone or belongs nowhere). */
  async #personAccess(user: string): Promise<Access | null> {
    const person = await this.deps.gate(() => this.deps.dataSource.getRepository(ConsoleUserEntity).findOneBy({ name: user }));
    if (!person) return null;
    if (person.installationAdmin) return { installationAdmin: true };
    const memberships = await this.deps.gate(() => this.deps.dataSource.getRepository(MembershipEntity).findBy({ userName: user }));
    const roles = new Map(memberships.filter((m) => isRole(m.role)).map((m) => [m.workspaceId, m.role as Role]));
    return roles.size ? { installationAdmin: false, roles } : null;
  }

  /**
   * The first installation admin token: written to `path` (mode 0600, in a 0700 folder if it
   * creates one) when no file is there. An existing file is left alone even if this database
   * does not accept it — deleting the file and restarting mints a new one; a revoked first
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
    const { token } = await this.create(null, { name: 'admin (first start)', role: INSTALLATION_ADMIN, validDays: 0 }, SYSTEM);
    // 'wx': never overwrite a file another instance wrote meanwhile.
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `${token}\n`);
    } finally {
      closeSync(fd);
    }
    this.deps.logger.warn({ path }, 'created the first installation admin API token (mode 0600); the CLI run with the same data folder uses it; keep it like a password');
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

/** An ordinary token's rights: its role in its workspace, or installation admin. */
function tokenAccess(row: ApiTokenRow): Access | null {
  if (row.role === INSTALLATION_ADMIN) return accessOf(INSTALLATION_ADMIN, '');
  return isRole(row.role) && row.workspaceId ? accessOf(row.role, row.workspaceId) : null;
}

function installationToo(caller: TokenCaller): boolean {
  return caller.principal.kind === 'token' && caller.principal.access.installationAdmin;
}

/** Whether a token of `workspace` (null: the installation's) is the caller's to see. */
function visible(caller: TokenCaller, workspace: string | null): boolean {
  if (caller.scope.every) return true;
  return workspace === null ? installationToo(caller) : workspace === caller.scope.workspace;
}
