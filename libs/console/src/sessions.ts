import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { INSTALLATION_ADMIN, consoleSessionUser, isConsoleRole, isWorkspaceId, type AnyRole, type TokenPrincipal } from '@postbote/auth';
import { roleFromProto } from '@postbote/contract';
import { PostboteError } from '@postbote/errors';
import type { WhoAmIResponse } from '@postbote/proto';
import type { Viewer } from './i18n';
import type { ServiceCalls } from './service-calls';

/** The session cookie holds the session token itself; `__Host-` pins it to this origin over HTTPS. */
export const sessionCookie = (https: boolean): string => (https ? '__Host-postbote_session' : 'postbote_session');
/** Double-submit value for the sign-in form, which has no session yet to derive a CSRF token from. */
export const signInCookie = (https: boolean): string => (https ? '__Host-postbote_signin' : 'postbote_signin');
/** The language chosen with the console's switch (not a secret). */
export const langCookie = (https: boolean): string => (https ? '__Host-postbote_lang' : 'postbote_lang');
/** The workspace the person works in (not a secret: the services decide what it lets them do). */
export const workspaceCookie = (https: boolean): string => (https ? '__Host-postbote_workspace' : 'postbote_workspace');

/** How often a session is checked again with the config service (revocation, removed user or membership). */
const RECHECK_MS = 30_000;

/** A console session as the cache keeps it; a request's `Session` adds its viewer's language. */
export interface SessionRecord {
  readonly token: string;
  readonly user: string;
  /** The workspace every call of this request acts in. */
  readonly workspace: string;
  /** The person's role there (an installation admin's is that). */
  readonly role: AnyRole;
  /** The workspaces the person may switch to with their role in each (an installation admin: see ListWorkspaces). */
  readonly memberships: ReadonlyMap<string, AnyRole>;
  readonly installationAdmin: boolean;
  readonly expiresAt: Date | null;
  /** Proves a form came from a page this session loaded (CSRF). */
  readonly csrf: string;
}

/** A signed-in person's request: their session and the language the page is in. */
export type Session = SessionRecord & Viewer;

/** The session as the permission table sees it, for asking what the person may do here. */
export function principalOf(s: SessionRecord): TokenPrincipal {
  const roles = new Map([...s.memberships].filter((e): e is [string, Exclude<AnyRole, typeof INSTALLATION_ADMIN>] => e[1] !== INSTALLATION_ADMIN));
  return { kind: 'token', tokenId: '', name: s.user, access: s.installationAdmin ? { installationAdmin: true } : { installationAdmin: false, roles }, expiresAt: s.expiresAt };
}

/**
 * The CSRF token of a session: an HMAC of a fixed label keyed by the session token. Another
 * site can make the browser send the cookie but cannot read it, so it cannot compute this;
 * nothing needs storing, and every console replica derives the same value.
 */
export function csrfFor(token: string): string {
  return createHmac('sha256', token).update('postbote console csrf v1').digest('base64url');
}

export function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export function newSignInNonce(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Who a session token belongs to and what they may do in the workspace they chose, asked of
 * the config service (WhoAmI with the token, in that workspace) and remembered briefly, so a
 * page costs no extra round trip while a revoked session, a removed user or a removed
 * membership is noticed within `RECHECK_MS`. A workspace the person no longer belongs to (or
 * never did: the cookie is theirs to edit) falls back to their home workspace.
 */
export class SessionCache {
  readonly #known = new Map<string, { session: SessionRecord; checkedAt: number }>();

  constructor(
    private readonly calls: ServiceCalls,
    private readonly now: () => number,
  ) {}

  remember(session: SessionRecord): void {
    this.#known.set(keyOf(session.token, session.workspace), { session, checkedAt: this.now() });
  }

  forget(token: string): void {
    for (const key of this.#known.keys()) if (key.startsWith(`${token}\n`)) this.#known.delete(key);
  }

  /** The session of a cookie's token in the chosen workspace, or null when it is not (or no longer) a console session. */
  async resolve(token: string | undefined, chosen?: string | undefined): Promise<SessionRecord | null> {
    if (!token || token.length > 200) return null;
    const workspace = chosen && isWorkspaceId(chosen) ? chosen : '';
    const now = this.now();
    const hit = this.#known.get(keyOf(token, workspace));
    if (hit && now - hit.checkedAt < RECHECK_MS && (!hit.session.expiresAt || hit.session.expiresAt.getTime() > now)) return hit.session;
    this.#prune(now);
    const me = (workspace ? await this.#whoAmI(token, workspace) : null) ?? (await this.#whoAmI(token, ''));
    const user = me ? consoleSessionUser(me.name) : null;
    const role = me ? roleFromProto(me.role) : '';
    if (!me || user === null || !(role === INSTALLATION_ADMIN || isConsoleRole(role))) {
      this.forget(token);
      return null;
    }
    const memberships = new Map<string, AnyRole>(me.memberships.flatMap((m) => {
      const r = roleFromProto(m.role);
      return r ? [[m.workspace, r] as const] : [];
    }));
    const session: SessionRecord = { token, user, workspace: me.workspace, role, memberships, installationAdmin: me.installationAdmin, expiresAt: hit?.session.expiresAt ?? null, csrf: csrfFor(token) };
    this.#known.set(keyOf(token, workspace), { session, checkedAt: now });
    return session;
  }

  /** WhoAmI with the token in `workspace` ('' for its home); null when the token or the workspace is refused. */
  async #whoAmI(token: string, workspace: string): Promise<WhoAmIResponse | null> {
    return this.calls.whoAmI(token, workspace).catch((err: unknown) => {
      if (err instanceof PostboteError && (err.code === 'UNAUTHENTICATED' || err.code === 'PERMISSION_DENIED')) return null;
      throw err;
    });
  }

  #prune(now: number): void {
    if (this.#known.size < 1000) return;
    for (const [k, v] of this.#known) if (now - v.checkedAt >= RECHECK_MS) this.#known.delete(k);
  }
}

const keyOf = (token: string, workspace: string) => `${token}\n${workspace}`;
