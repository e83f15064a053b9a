import type { ServerAccess, TlsResumption } from '@postbote/mailbox';
import { fetcherMetrics } from '@postbote/metrics';

/**
 * How long a fetcher keeps a connector's decrypted password between polls (decision 0027).
 * A polled connector otherwise asks the config service for it at every run — a gRPC call, a
 * database read and a decryption there, a round trip here — which was a fixed share of every
 * quiet poll's CPU. The fetcher holds the password during each run anyway, and a pushed
 * connector for as long as its connection lives (hours); ten minutes between runs adds no new
 * kind of exposure, and a password changed in the registry is a new revision, read at once.
 */
export const CREDENTIALS_TTL_MS = 10 * 60_000;

/**
 * How long a connector's TLS session with its mail server is kept for the next poll
 * (decision 0028). Servers hand out sessions valid for minutes to hours (OpenSSL's default
 * ticket lifetime is two hours); one the server no longer takes costs a full handshake, no
 * failure. An hour covers every interval up to one.
 */
export const TLS_SESSION_TTL_MS = 60 * 60_000;

interface Entry<T> {
  readonly revision: number;
  readonly value: T;
  readonly at: number;
}

/**
 * A value per connector, valid for the connector's revision and at most `ttlMs`: dropped when
 * the revision changes (any change in the registry), on `drop`, and once it is older than the
 * TTL. Connectors deleted or moved to another fetcher leave entries behind: swept once a TTL.
 */
export class PerRevision<T> {
  readonly #entries = new Map<string, Entry<T>>();
  #prunedAt = 0;

  constructor(
    private readonly now: () => number,
    private readonly ttlMs: number,
  ) {}

  get(connectorId: string, revision: number): T | undefined {
    const e = this.#entries.get(connectorId);
    if (!e) return undefined;
    if (e.revision !== revision || this.now() - e.at >= this.ttlMs) {
      this.#entries.delete(connectorId);
      return undefined;
    }
    return e.value;
  }

  put(connectorId: string, revision: number, value: T): void {
    const now = this.now();
    this.#entries.set(connectorId, { revision, value, at: now });
    if (now - this.#prunedAt >= this.ttlMs) {
      this.#prunedAt = now;
      for (const [id, e] of this.#entries) if (now - e.at >= this.ttlMs) this.#entries.delete(id);
    }
  }

  drop(connectorId: string): void {
    this.#entries.delete(connectorId);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/**
 * Each connector's server access (settings and password) as last handed out, for its revision.
 * Only password logins are kept: an OAuth2 access token expires on its own schedule and the
 * config service refreshes it. Dropped when the revision changes, when the mail server refuses
 * the login (the password may have changed there), and after CREDENTIALS_TTL_MS.
 */
export class CredentialCache {
  readonly #kept: PerRevision<ServerAccess>;

  constructor(now: () => number) {
    this.#kept = new PerRevision(now, CREDENTIALS_TTL_MS);
  }

  get(connectorId: string, revision: number): ServerAccess | undefined {
    return this.#kept.get(connectorId, revision);
  }

  put(connectorId: string, revision: number, access: ServerAccess): void {
    if (access.login.kind === 'PASSWORD') this.#kept.put(connectorId, revision, access);
  }

  drop(connectorId: string): void {
    this.#kept.drop(connectorId);
  }

  get size(): number {
    return this.#kept.size;
  }
}

/**
 * Each connector's latest TLS session with its mail server, for its revision: a new revision
 * may name another server, port, trust or proxy, so a session is only ever offered where it
 * was made. Kept in memory only, like the password (a session resumes the encryption, it
 * does not log in).
 */
export class TlsSessions {
  readonly #kept: PerRevision<Buffer>;

  constructor(now: () => number) {
    this.#kept = new PerRevision(now, TLS_SESSION_TTL_MS);
  }

  for(connectorId: string, revision: number): TlsResumption {
    const kept = this.#kept;
    return {
      ticket: kept.get(connectorId, revision),
      keep: (ticket) => kept.put(connectorId, revision, ticket),
      handshake: (resumed) => fetcherMetrics.tlsHandshakes.inc({ resumed: resumed ? 'yes' : 'no' }),
    };
  }

  get size(): number {
    return this.#kept.size;
  }
}
