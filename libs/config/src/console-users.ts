import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { RateLimiter, consoleSessionName, isConsoleRole, mintToken, parseToken, secretMatches } from '@postbote/auth';
import { AlreadyExistsError, AuthenticationError, NotFoundError, ValidationError, type Violation } from '@postbote/errors';
import type { Gate } from '@postbote/db';
import type { Logger } from '@postbote/logging';
import { ApiTokenEntity, ConsoleUserEntity, type ConsoleUserRow } from './access-entities';
import type { Actor, AuditLog } from './audit-log';

/** How long a console session lasts from sign-in (absolute; signing out ends it sooner). */
export const CONSOLE_SESSION_MS = 12 * 3_600_000;
const NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
const MIN_PASSWORD = 12;
const MAX_PASSWORD = 200;

/**
 * scrypt with N = 2^15, r = 8, p = 1 (32 MiB, ~50–100 ms here): slow enough that a stolen
 * table costs an attacker dearly, fast enough for a sign-in. The parameters are stored with
 * each hash, so they can be raised later without invalidating older hashes.
 */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

function scrypt(password: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...p, maxmem: 256 * p.N * p.r };
  return new Promise((resolve, reject) => scryptCb(password, salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, PARAMS);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, key] = stored.split('$');
  if (kind !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Computed once: an unknown user name costs as much as a wrong password, so timing tells nothing. */
let decoy: Promise<string> | undefined;

export interface ConsoleUsersDeps {
  readonly dataSource: DataSource;
  readonly gate: Gate;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly now: () => Date;
}

export interface SignedIn {
  readonly user: ConsoleUserRow;
  readonly sessionToken: string;
  readonly expiresAt: Date;
}

/**
 * The web console's users and their sessions. A session is an API token with the user's
 * role (marked with the user's name), so every call the console makes for the person passes
 * the same gate and permission table as any API caller, and the audit log names the person.
 * Sign-ins are rate-limited per user name and per client address, here where every console
 * replica's attempts meet.
 */
export class ConsoleUsers {
  readonly #perName: RateLimiter;
  readonly #perAddress: RateLimiter;

  constructor(private readonly deps: ConsoleUsersDeps) {
    const now = () => deps.now().getTime();
    this.#perName = new RateLimiter({ burst: 10, everyMs: 30_000, now, what: 'sign-in attempts for this user' });
    this.#perAddress = new RateLimiter({ burst: 30, everyMs: 10_000, now, what: 'sign-in attempts from this address' });
  }

  async add(input: { name: string; role: string; password: string; replace: boolean }, actor: Actor): Promise<ConsoleUserRow> {
    const name = input.name.trim().toLowerCase();
    const violations: Violation[] = [];
    if (!NAME.test(name)) violations.push({ field: 'name', rule: 'pattern', message: 'must be 1 to 64 characters: lower-case letters, digits, ".", "_", "-", "@", starting with a letter or digit' });
    if (!isConsoleRole(input.role)) violations.push({ field: 'role', rule: 'required', message: 'must be admin, operator or viewer' });
    if ([...input.password].length < MIN_PASSWORD || [...input.password].length > MAX_PASSWORD) violations.push({ field: 'password', rule: 'length', message: `must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters` });
    if (violations.length) throw new ValidationError(violations);
    const passwordHash = await hashPassword(input.password);
    const now = this.deps.now();
    return this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        const repo = tx.getRepository(ConsoleUserEntity);
        const existing = await repo.findOneBy({ name });
        if (existing && !input.replace) throw new AlreadyExistsError(`console user ${name} exists (--replace sets a new role and password)`, 'name');
        const row: ConsoleUserRow = existing
          ? { ...existing, role: input.role, passwordHash }
          : { name, role: input.role, passwordHash, createdAt: now, createdBy: actor.who.slice(0, 200), lastSignInAt: null };
        await repo.save(row);
        // A new password or role ends the sessions the old one opened.
        if (existing) await this.#endSessions(tx.getRepository(ApiTokenEntity), name, now);
        await this.deps.audit.append(tx, actor, existing ? 'CONSOLE_USER_REPLACED' : 'CONSOLE_USER_ADDED', { type: 'console-user', id: name, name }, `role ${row.role}`);
        this.deps.logger.info({ user: name, role: row.role, by: actor.who }, existing ? 'console user replaced' : 'console user added');
        return row;
      }),
    );
  }

  list(): Promise<ConsoleUserRow[]> {
    return this.deps.gate(() => this.deps.dataSource.getRepository(ConsoleUserEntity).find({ order: { name: 'ASC' } }));
  }

  async remove(rawName: string, actor: Actor): Promise<ConsoleUserRow> {
    const name = rawName.trim().toLowerCase();
    return this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        const repo = tx.getRepository(ConsoleUserEntity);
        const row = await repo.findOneBy({ name });
        if (!row) throw new NotFoundError(`no console user ${name}`);
        await repo.delete({ name });
        await this.#endSessions(tx.getRepository(ApiTokenEntity), name, this.deps.now());
        await this.deps.audit.append(tx, actor, 'CONSOLE_USER_REMOVED', { type: 'console-user', id: name, name });
        this.deps.logger.info({ user: name, by: actor.who }, 'console user removed');
        return row;
      }),
    );
  }

  /** Checks a person's password and opens a session; the same refusal for an unknown name and a wrong password. */
  async signIn(input: { name: string; password: string; clientAddress: string }, console: Actor): Promise<SignedIn> {
    const name = input.name.trim().toLowerCase().slice(0, 64);
    const client = input.clientAddress.slice(0, 100);
    this.#perAddress.take(client);
    this.#perName.take(name);
    const row = NAME.test(name) ? await this.deps.gate(() => this.deps.dataSource.getRepository(ConsoleUserEntity).findOneBy({ name })) : null;
    const ok = row ? await passwordMatches(input.password, row.passwordHash) : await passwordMatches(input.password, await (decoy ??= hashPassword(randomBytes(16).toString('hex'))));
    if (!row || !ok) {
      this.deps.logger.warn({ client }, 'console sign-in refused');
      throw new AuthenticationError('unknown user name or wrong password', { reason: 'CONSOLE_SIGN_IN_REFUSED' });
    }
    const minted = mintToken();
    const now = this.deps.now();
    const expiresAt = new Date(now.getTime() + CONSOLE_SESSION_MS);
    const actor: Actor = { who: `console user ${name} (${row.role})`, peer: `${client} via ${console.peer}`.slice(0, 100) };
    await this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        await tx.getRepository(ApiTokenEntity).insert({
          id: minted.id,
          name: consoleSessionName(name),
          role: row.role,
          secretHash: minted.secretHash,
          createdAt: now,
          createdBy: console.who.slice(0, 200),
          expiresAt,
          revokedAt: null,
          lastUsedAt: null,
          consoleUser: name,
        });
        await tx.getRepository(ConsoleUserEntity).update({ name }, { lastSignInAt: now });
        await this.deps.audit.append(tx, actor, 'CONSOLE_SIGNED_IN', { type: 'console-user', id: name, name }, `session ${minted.id}`);
      }),
    );
    return { user: { ...row, lastSignInAt: now }, sessionToken: minted.token, expiresAt };
  }

  /** Ends a session (idempotent: an unknown or ended session is no error). */
  async signOut(token: string): Promise<void> {
    const parsed = parseToken(token);
    if (!parsed) return;
    const { id } = parsed;
    const now = this.deps.now();
    await this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        const repo = tx.getRepository(ApiTokenEntity);
        const row = await repo.findOneBy({ id });
        // Only the holder of the whole token ends a session, never someone who knows its id.
        if (!row?.consoleUser || row.revokedAt || !secretMatches(parsed.secret, row.secretHash)) return;
        await repo.update({ id }, { revokedAt: now });
        await this.deps.audit.append(tx, { who: `console user ${row.consoleUser} (${row.role})`, peer: '' }, 'CONSOLE_SIGNED_OUT', { type: 'console-user', id: row.consoleUser, name: row.consoleUser }, `session ${id}`);
      }),
    );
  }

  async #endSessions(repo: ReturnType<DataSource['getRepository']>, name: string, now: Date): Promise<void> {
    await repo.createQueryBuilder().update().set({ revokedAt: now }).where('console_user = :name AND revoked_at IS NULL', { name }).execute();
  }
}
