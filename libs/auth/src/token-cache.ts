import { createHash } from 'node:crypto';
import { PostboteError } from '@postbote/errors';
import type { TokenPrincipal } from './principal';

/** Answers who holds a token: null for an unknown, expired, revoked or malformed one. */
export interface TokenAuthenticator {
  authenticate(token: string): Promise<TokenPrincipal | null>;
}

export interface TokenCacheOptions {
  readonly now: () => number;
  /**
   * How long an answer is trusted (25 s): also how long a revocation may take to reach a
   * service's calls — plus, for an open stream, its re-check interval (5 s), together the
   * 30 s `docs/security.md` promises.
   */
  readonly ttlMs?: number;
  /** How long a refusal is remembered (a stream of bad tokens costs one lookup each). */
  readonly refusalTtlMs?: number;
  /**
   * While the authority (the config service) is unreachable, a token it accepted keeps
   * working this long after its answer expired, so an outage of the config service does not
   * lock everyone out of storage and events at once.
   */
  readonly staleMs?: number;
  readonly maxEntries?: number;
}

interface Entry {
  readonly principal: TokenPrincipal | null;
  readonly at: number;
}

/**
 * Caches another authenticator's answers by the token's hash (the token itself is never
 * kept). Retryable failures of the authority fall back to a recent acceptance; everything
 * else propagates, so a caller sees UNAVAILABLE rather than a wrong refusal.
 */
export class TokenCache implements TokenAuthenticator {
  readonly #entries = new Map<string, Entry>();
  readonly #ttl: number;
  readonly #refusalTtl: number;
  readonly #stale: number;
  readonly #max: number;

  constructor(
    private readonly inner: TokenAuthenticator,
    private readonly options: TokenCacheOptions,
  ) {
    this.#ttl = options.ttlMs ?? 25_000;
    this.#refusalTtl = options.refusalTtlMs ?? 5_000;
    this.#stale = options.staleMs ?? 600_000;
    this.#max = options.maxEntries ?? 10_000;
  }

  async authenticate(token: string): Promise<TokenPrincipal | null> {
    const key = createHash('sha256').update(token).digest('base64');
    const now = this.options.now();
    const hit = this.#entries.get(key);
    if (hit && now - hit.at < (hit.principal ? this.#ttl : this.#refusalTtl)) return live(hit.principal, now);
    try {
      const principal = await this.inner.authenticate(token);
      this.#remember(key, { principal, at: now });
      return live(principal, now);
    } catch (err) {
      const retryable = err instanceof PostboteError && err.retryable;
      if (retryable && hit?.principal && now - hit.at < this.#ttl + this.#stale) return live(hit.principal, now);
      throw err;
    }
  }

  #remember(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    // Oldest first out: a Map iterates in insertion order.
    while (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }
}

function live(p: TokenPrincipal | null, now: number): TokenPrincipal | null {
  return p && (p.expiresAt === null || p.expiresAt.getTime() > now) ? p : null;
}
