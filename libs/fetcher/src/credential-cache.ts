import type { ServerAccess } from '@postbote/mailbox';

/**
 * How long a fetcher keeps a connector's decrypted password between polls (decision 0027).
 * A polled connector otherwise asks the config service for it at every run — a gRPC call, a
 * database read and a decryption there, a round trip here — which was a fixed share of every
 * quiet poll's CPU. The fetcher holds the password during each run anyway, and a pushed
 * connector for as long as its connection lives (hours); ten minutes between runs adds no new
 * kind of exposure, and a password changed in the registry is a new revision, read at once.
 */
export const CREDENTIALS_TTL_MS = 10 * 60_000;

interface Entry {
  readonly revision: number;
  readonly access: ServerAccess;
  readonly at: number;
}

/**
 * Each connector's server access (settings and password) as last handed out, for its revision.
 * Only password logins are kept: an OAuth2 access token expires on its own schedule and the
 * config service refreshes it. Dropped when the revision changes, when the mail server refuses
 * the login (the password may have changed there), and after CREDENTIALS_TTL_MS.
 */
export class CredentialCache {
  readonly #entries = new Map<string, Entry>();
  #prunedAt = 0;

  constructor(private readonly now: () => number) {}

  get(connectorId: string, revision: number): ServerAccess | undefined {
    const e = this.#entries.get(connectorId);
    if (!e) return undefined;
    if (e.revision !== revision || this.now() - e.at >= CREDENTIALS_TTL_MS) {
      this.#entries.delete(connectorId);
      return undefined;
    }
    return e.access;
  }

  put(connectorId: string, revision: number, access: ServerAccess): void {
    if (access.login.kind !== 'PASSWORD') return;
    const now = this.now();
    this.#entries.set(connectorId, { revision, access, at: now });
    // Connectors that were deleted or moved to another fetcher leave their entries behind: swept once a TTL.
    if (now - this.#prunedAt >= CREDENTIALS_TTL_MS) {
      this.#prunedAt = now;
      for (const [id, e] of this.#entries) if (now - e.at >= CREDENTIALS_TTL_MS) this.#entries.delete(id);
    }
  }

  drop(connectorId: string): void {
    this.#entries.delete(connectorId);
  }

  get size(): number {
    return this.#entries.size;
  }
}
