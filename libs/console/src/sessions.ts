import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { consoleSessionUser, isConsoleRole, type Role } from '@postbote/auth';
import { roleFromProto } from '@postbote/contract';
import type { ServiceCalls } from './service-calls';

/** The session cookie holds the session token itself; `__Host-` pins it to this origin over HTTPS. */
export const sessionCookie = (https: boolean): string => (https ? '__Host-postbote_session' : 'postbote_session');
/** Double-submit value for the sign-in form, which has no session yet to derive a CSRF token from. */
export const signInCookie = (https: boolean): string => (https ? '__Host-postbote_signin' : 'postbote_signin');

/** How often a session is checked again with the config service (revocation, removed user). */
const RECHECK_MS = 30_000;

export interface Session {
  readonly token: string;
  readonly user: string;
  readonly role: Role;
  readonly expiresAt: Date | null;
  /** Proves a form came from a page this session loaded (CSRF). */
  readonly csrf: string;
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
 * Who a session token belongs to, asked of the config service (WhoAmI with the token) and
 * remembered briefly, so a page costs no extra round trip while a revoked session or a
 * removed user is noticed within `RECHECK_MS`.
 */
export class SessionCache {
  readonly #known = new Map<string, { session: Session; checkedAt: number }>();

  constructor(
    private readonly calls: ServiceCalls,
    private readonly now: () => number,
  ) {}

  remember(session: Session): void {
    this.#known.set(session.token, { session, checkedAt: this.now() });
  }

  forget(token: string): void {
    this.#known.delete(token);
  }

  /** The session of a cookie's token, or null when it is not (or no longer) a console session. */
  async resolve(token: string | undefined): Promise<Session | null> {
    if (!token || token.length > 200) return null;
    const now = this.now();
    const hit = this.#known.get(token);
    if (hit && now - hit.checkedAt < RECHECK_MS && (!hit.session.expiresAt || hit.session.expiresAt.getTime() > now)) return hit.session;
    this.#prune(now);
    const me = await this.calls.as(token, this.calls.access, this.calls.access.whoAmI, {}).catch((err: unknown) => {
      if ((err as { code?: string }).code === 'UNAUTHENTICATED') return null;
      throw err;
    });
    const role = me ? roleFromProto(me.role) : '';
    const user = me ? consoleSessionUser(me.name) : null;
    if (!me || user === null || !isConsoleRole(role)) {
      this.#known.delete(token);
      return null;
    }
    const session: Session = { token, user, role, expiresAt: hit?.session.expiresAt ?? null, csrf: csrfFor(token) };
    this.#known.set(token, { session, checkedAt: now });
    return session;
  }

  #prune(now: number): void {
    if (this.#known.size < 1000) return;
    for (const [k, v] of this.#known) if (now - v.checkedAt >= RECHECK_MS) this.#known.delete(k);
  }
}
