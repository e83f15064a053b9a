import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { DEFAULT_WORKSPACE, INSTALLATION_ADMIN, RateLimiter, consoleSessionName, isConsoleRole, isInstallationAdmin, mayGrant, mintToken, parseToken, secretMatches, type ConsoleMemberInfo, type Principal, type Scope } from '@postbote/auth';
import { AlreadyExistsError, AuthenticationError, NotFoundError, PermissionDeniedError, ValidationError, type Violation } from '@postbote/errors';
import type { Gate } from '@postbote/db';
import type { Logger } from '@postbote/logging';
import { ApiTokenEntity, ConsoleUserEntity, MembershipEntity, type ConsoleUserRow } from './access-entities';
import type { Actor, AuditLog } from './audit-log';
import type { Workspaces } from './workspaces';

/** How long a console session lasts from sign-in (absolute; signing out ends it sooner). */
export const CONSOLE_SESSION_MS = 12 * 3_600_000;
const NAME = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
const MIN_PASSWORD = 12;
const MAX_PASSWORD = 200;
/** What a console session's token row holds as its role: its rights are its person's (see ApiTokens). */
const SESSION_ROLE = 'session';

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
  readonly workspaces: Workspaces;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** A person as a workspace sees them: their role there (or installation admin). */
/** A console user as the API shows them. */
export type Member = ConsoleMemberInfo;

export interface SignedIn {
  readonly user: Member;
  readonly sessionToken: string;
  readonly expiresAt: Date;
}

/** Who asks: the scope the gate decided and the caller. */
export interface MemberCaller {
  readonly scope: Scope;
  readonly principal: Principal;
}

/**
 * The web console's people, their memberships and their sessions. A person has a password
 * and a role in each workspace they belong to (or is an installation admin); a session is an
 * API token marked with the person's name, whose rights are the person's memberships as they
 * are at each call, so every call the console makes for them passes the same gate and
 * permission table as any API caller, and the audit log names them. A workspace admin adds
 * new people to their workspace, adds existing people by name (who keep their own password),
 * and sets passwords only of people who belong to no other workspace. Sign-ins are
 * rate-limited per user name and per client address, here where every console replica's
 * attempts meet.
 */
export class ConsoleUsers {
  readonly #perName: RateLimiter;
  readonly #perAddress: RateLimiter;

  constructor(private readonly deps: ConsoleUsersDeps) {
    const now = () => deps.now().getTime();
    this.#perName = new RateLimiter({ burst: 10, everyMs: 30_000, now, what: 'sign-in attempts for this user' });
    this.#perAddress = new RateLimiter({ burst: 30, everyMs: 10_000, now, what: 'sign-in attempts from this address' });
  }

  async add(caller: MemberCaller, input: { name: string; role: string; password: string; replace: boolean }, actor: Actor): Promise<Member> {
    const name = input.name.trim().toLowerCase();
    const installation = input.role === INSTALLATION_ADMIN;
    const violations: Violation[] = [];
    if (!NAME.test(name)) violations.push({ field: 'name', rule: 'pattern', message: 'must be 1 to 64 characters: lower-case letters, digits, ".", "_", "-", "@", starting with a letter or digit' });
    if (!installation && !isConsoleRole(input.role)) violations.push({ field: 'role', rule: 'required', message: 'must be admin, operator, viewer (in this workspace) or installation-admin' });
    const length = [...input.password].length;
    if (input.password !== '' && (length < MIN_PASSWORD || length > MAX_PASSWORD)) violations.push({ field: 'password', rule: 'length', message: `must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters` });
    if (violations.length) throw new ValidationError(violations);
    if (installation && !mayGrant(caller.principal, INSTALLATION_ADMIN)) throw new PermissionDeniedError('only an installation admin makes another', { reason: 'ROLE_NOT_PERMITTED' });
    const workspace = installation ? '' : (await this.deps.workspaces.forChange(caller.scope)).id;
    const passwordHash = input.password === '' ? null : await hashPassword(input.password);
    const now = this.deps.now();
    return this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        const people = tx.getRepository(ConsoleUserEntity);
        const memberships = tx.getRepository(MembershipEntity);
        const existing = await people.findOneBy({ name });
        if (!existing && passwordHash === null) throw ValidationError.single('password', 'required', 'is required for a new person');
        const mine = existing && !installation ? await memberships.findOneBy({ userName: name, workspaceId: workspace }) : null;
        const already = installation ? Boolean(existing?.installationAdmin) : mine !== null;
        if (already && !input.replace) throw new AlreadyExistsError(`${name} is ${installation ? 'an installation admin' : `a member of workspace ${workspace}`} already (--replace sets a new role and password)`, 'name');
        if (existing && passwordHash !== null) {
          if (!already) throw new AlreadyExistsError(`a person named ${name} exists; add them without a password (they keep their own), or choose another name`, 'name');
          await this.#mayReset(tx, caller, existing);
        }
        const row: ConsoleUserRow = existing
          ? { ...existing, installationAdmin: existing.installationAdmin || installation, passwordHash: passwordHash ?? existing.passwordHash }
          : { name, installationAdmin: installation, passwordHash: passwordHash ?? '', createdAt: now, createdBy: actor.who.slice(0, 200), lastSignInAt: null };
        await people.save(row);
        if (!installation) await memberships.save({ userName: name, workspaceId: workspace, role: input.role, createdAt: mine?.createdAt ?? now, createdBy: mine?.createdBy ?? actor.who.slice(0, 200) });
        // A new password ends the sessions the old one opened (a changed role reaches them by itself).
        if (existing && passwordHash !== null) await endSessions(tx, name, now);
        const action = already ? 'CONSOLE_USER_REPLACED' : 'CONSOLE_USER_ADDED';
        await this.deps.audit.append(tx, { ...actor, workspace }, action, { type: 'console-user', id: name, name }, `role ${input.role}${existing && passwordHash !== null ? ', new password' : ''}`);
        this.deps.logger.info({ user: name, role: input.role, workspace, by: actor.who }, already ? 'console user replaced' : 'console user added');
        return { name, role: input.role, createdAt: row.createdAt, createdBy: row.createdBy, lastSignInAt: row.lastSignInAt };
      }),
    );
  }

  /** The scope's members with their role there (and, for an installation admin, the installation admins), by name. */
  async list(caller: MemberCaller): Promise<Member[]> {
    if (caller.scope.every) return [];
    const workspace = caller.scope.workspace;
    return this.deps.gate(async () => {
      const members = await this.deps.dataSource.getRepository(MembershipEntity).findBy({ workspaceId: workspace });
      const people = await this.deps.dataSource.getRepository(ConsoleUserEntity).find({ order: { name: 'ASC' } });
      const roleOf = new Map(members.map((m) => [m.userName, m.role]));
      return people
        .filter((p) => roleOf.has(p.name) || (p.installationAdmin && isInstallationAdmin(caller.principal)))
        .map((p) => ({ name: p.name, role: p.installationAdmin ? INSTALLATION_ADMIN : (roleOf.get(p.name) ?? ''), createdAt: p.createdAt, createdBy: p.createdBy, lastSignInAt: p.lastSignInAt }));
    });
  }

  /**
   * Removes a person from the scope's workspace; one left in no workspace is deleted. An
   * installation admin removing an installation admin deletes the person.
   */
  async remove(caller: MemberCaller, rawName: string, actor: Actor): Promise<Member> {
    const name = rawName.trim().toLowerCase();
    const workspace = caller.scope.every ? '' : caller.scope.workspace;
    return this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        const people = tx.getRepository(ConsoleUserEntity);
        const memberships = tx.getRepository(MembershipEntity);
        const person = NAME.test(name) ? await people.findOneBy({ name }) : null;
        const mine = person ? await memberships.findOneBy({ userName: name, workspaceId: workspace }) : null;
        const wholePerson = person?.installationAdmin === true && isInstallationAdmin(caller.principal);
        // Someone of another workspace is not there, for this caller.
        if (!person || (!mine && !wholePerson)) throw new NotFoundError(`no console user ${name}`);
        const now = this.deps.now();
        if (wholePerson) {
          await memberships.delete({ userName: name });
        } else {
          await memberships.delete({ userName: name, workspaceId: workspace });
        }
        const left = wholePerson ? 0 : await memberships.countBy({ userName: name });
        if (left === 0 && !(person.installationAdmin && !wholePerson)) {
          await people.delete({ name });
          await endSessions(tx, name, now);
        }
        await this.deps.audit.append(tx, { ...actor, workspace: wholePerson ? '' : workspace }, 'CONSOLE_USER_REMOVED', { type: 'console-user', id: name, name }, wholePerson ? 'installation admin removed' : '');
        this.deps.logger.info({ user: name, workspace, by: actor.who }, 'console user removed');
        return { name, role: wholePerson ? INSTALLATION_ADMIN : (mine?.role ?? ''), createdAt: person.createdAt, createdBy: person.createdBy, lastSignInAt: person.lastSignInAt };
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
    const actor: Actor = { who: `console user ${name}`, peer: `${client} via ${console.peer}`.slice(0, 100), workspace: '' };
    await this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        await tx.getRepository(ApiTokenEntity).insert({
          id: minted.id,
          name: consoleSessionName(name),
          role: SESSION_ROLE,
          workspaceId: null,
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
    // Their role where a session naming no workspace acts (see homeWorkspace).
    const memberships = (await this.deps.gate(() => this.deps.dataSource.getRepository(MembershipEntity).findBy({ userName: name }))).sort((a, b) => (a.workspaceId === DEFAULT_WORKSPACE ? -1 : b.workspaceId === DEFAULT_WORKSPACE ? 1 : a.workspaceId.localeCompare(b.workspaceId)));
    const user = { name, role: row.installationAdmin ? INSTALLATION_ADMIN : (memberships[0]?.role ?? ''), createdAt: row.createdAt, createdBy: row.createdBy, lastSignInAt: now };
    return { user, sessionToken: minted.token, expiresAt };
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
        await this.deps.audit.append(tx, { who: `console user ${row.consoleUser}`, peer: '', workspace: '' }, 'CONSOLE_SIGNED_OUT', { type: 'console-user', id: row.consoleUser, name: row.consoleUser }, `session ${id}`);
      }),
    );
  }

  /** A workspace admin sets passwords only of people who are theirs alone; an installation admin of anyone. */
  async #mayReset(tx: EntityManager, caller: MemberCaller, person: ConsoleUserRow): Promise<void> {
    if (isInstallationAdmin(caller.principal)) return;
    const elsewhere = person.installationAdmin || (await tx.getRepository(MembershipEntity).findBy({ userName: person.name })).some((m) => caller.scope.every || m.workspaceId !== caller.scope.workspace);
    if (elsewhere) throw new PermissionDeniedError(`${person.name} belongs to other workspaces too: only an installation admin sets their password (leave the password empty to change only the role)`, { reason: 'PASSWORD_NOT_YOURS' });
  }
}

async function endSessions(tx: EntityManager, name: string, now: Date): Promise<void> {
  await tx.getRepository(ApiTokenEntity).createQueryBuilder().update().set({ revokedAt: now }).where('console_user = :name AND revoked_at IS NULL', { name }).execute();
}
