import type { ConnectorSettings, Secrets } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import { PreconditionError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import { refreshRequestFor, type RefreshRequest, type TokenEndpoint } from './oauth-token-endpoint';

export interface AccessToken {
  readonly token: Secret;
  readonly expiresAt: Date;
}

export interface OAuthTokensDeps {
  readonly endpoint: TokenEndpoint;
  /** Stores a refresh token the endpoint rotated, unless the connector's was replaced meanwhile. */
  readonly storeRotated: (connectorId: string, previous: Secret, next: Secret) => Promise<void>;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** A token this close to its expiry is refreshed instead of handed out (a run must be able to log in with it). */
const EXPIRY_MARGIN_MS = 120_000;

interface Cached extends AccessToken {
  readonly revision: number;
  /** The refresh token it came from: a replaced one invalidates it. */
  readonly from: string;
}

/**
 * Access tokens of OAUTH2 connectors, held in the config service's memory only (never
 * stored, never logged). A token is reused until shortly before it expires, or until a
 * fetcher reports that the mail server refused it; one refresh per connector at a time,
 * so a fleet of fetchers asking together costs the token endpoint one call. A rotated
 * refresh token is stored sealed before the new access token is handed out.
 */
export class OAuthTokens {
  readonly #cache = new Map<string, Cached>();
  readonly #refreshing = new Map<string, Promise<Cached>>();
  /** Rotated refresh tokens whose storing failed (database down): kept to use and to store again. */
  readonly #unsaved = new Map<string, { previous: Secret; next: Secret }>();

  constructor(private readonly deps: OAuthTokensDeps) {}

  /**
   * A current access token for the connector. `rejected`: the token the mail server refused;
   * the endpoint is asked for a new one unless the cache already holds a different one.
   */
  async accessToken(id: string, settings: ConnectorSettings, secrets: Secrets, revision: number, rejected?: string): Promise<AccessToken> {
    const refreshToken = await this.#latestRefreshToken(id, secrets.oauthRefreshToken);
    const req = refreshRequestFor(settings, secrets, refreshToken);
    if (!req) {
      throw new PreconditionError(`connector ${id} has no complete OAuth2 settings (client ID, token endpoint, refresh token)`, { reason: 'OAUTH_NOT_CONFIGURED' });
    }
    const cached = this.#cache.get(id);
    const fresh =
      cached &&
      cached.revision === revision &&
      cached.from === req.refreshToken.reveal() &&
      cached.expiresAt.getTime() - EXPIRY_MARGIN_MS > this.deps.now().getTime() &&
      cached.token.reveal() !== rejected;
    if (fresh) return cached;
    let pending = this.#refreshing.get(id);
    if (!pending) {
      pending = this.#refresh(id, req, revision).finally(() => this.#refreshing.delete(id));
      this.#refreshing.set(id, pending);
    }
    return pending;
  }

  /** The stored refresh token, unless a rotated one could not be stored yet: then that one, stored now if possible. */
  async #latestRefreshToken(id: string, stored: Secret | undefined): Promise<Secret | undefined> {
    const unsaved = this.#unsaved.get(id);
    if (!unsaved || !stored) return stored;
    // Replaced by an update meanwhile: the person's new token wins.
    if (stored.reveal() !== unsaved.previous.reveal()) {
      this.#unsaved.delete(id);
      return stored;
    }
    await this.deps.storeRotated(id, unsaved.previous, unsaved.next).then(
      () => this.#unsaved.delete(id),
      () => undefined,
    );
    return unsaved.next;
  }

  async #refresh(id: string, req: RefreshRequest, revision: number): Promise<Cached> {
    const started = this.deps.now().getTime();
    try {
      const got = await this.deps.endpoint(req);
      let from = req.refreshToken.reveal();
      if (got.refreshToken && got.refreshToken !== from) {
        // Some providers invalidate the previous refresh token at once: the new one must not
        // be lost, even when the database is down right now.
        const next = new Secret(got.refreshToken);
        const previous = this.#unsaved.get(id)?.previous ?? req.refreshToken;
        await this.deps.storeRotated(id, previous, next).then(
          () => {
            this.#unsaved.delete(id);
            this.deps.logger.info({ connectorId: id }, 'OAuth2 refresh token rotated by the provider; the new one is stored');
          },
          (err: unknown) => {
            this.#unsaved.set(id, { previous, next });
            this.deps.logger.error({ connectorId: id, err: (err as Error).message }, 'OAuth2 refresh token rotated but not stored yet; kept in memory and stored at the next use');
          },
        );
        from = got.refreshToken;
      }
      const entry: Cached = { token: new Secret(got.accessToken), expiresAt: new Date(started + got.expiresInSeconds * 1000), revision, from };
      this.#cache.set(id, entry);
      return entry;
    } catch (err) {
      this.#cache.delete(id);
      throw err;
    }
  }
}
