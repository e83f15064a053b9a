import type { ConnectorSettings, Secrets } from '@postbote/connector-model';
import type { Secret } from '@postbote/crypto';
import { PreconditionError, UnavailableError } from '@postbote/errors';

/** What the config service sends to a token endpoint (RFC 6749 §6, refresh_token grant). */
export interface RefreshRequest {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: Secret | undefined;
  readonly refreshToken: Secret;
  readonly scope: string | null;
}

export interface RefreshResult {
  readonly accessToken: string;
  /** Seconds the access token lives, as the endpoint said (default 3600 when it did not). */
  readonly expiresInSeconds: number;
  /** A rotated refresh token, when the endpoint issued one (Microsoft does; Google does not). */
  readonly refreshToken: string | undefined;
}

export type TokenEndpoint = (req: RefreshRequest, signal?: AbortSignal) => Promise<RefreshResult>;

/** The refresh a connector's OAuth2 settings and secrets make; undefined when they are incomplete. */
export function refreshRequestFor(settings: ConnectorSettings, secrets: Secrets, refreshToken = secrets.oauthRefreshToken): RefreshRequest | undefined {
  if (settings.authType !== 'OAUTH2' || !refreshToken || !settings.oauthTokenUrl || !settings.oauthClientId) return undefined;
  return { tokenUrl: settings.oauthTokenUrl, clientId: settings.oauthClientId, clientSecret: secrets.oauthClientSecret, refreshToken, scope: settings.oauthScope };
}

const TIMEOUT_MS = 15_000;
const MAX_RESPONSE_BYTES = 64 * 1024;
/** Errors that mean "this grant or client will not work until a person acts" (RFC 6749 §5.2). */
const GRANT_ERRORS: Record<string, string> = {
  invalid_grant: 'OAUTH_GRANT_INVALID',
  invalid_client: 'OAUTH_CLIENT_INVALID',
  unauthorized_client: 'OAUTH_CLIENT_INVALID',
  invalid_scope: 'OAUTH_SCOPE_INVALID',
};

/**
 * Exchanges a refresh token for an access token with one POST (client credentials in the
 * body, client_secret_post, which Microsoft and Google both take). Redirects are not
 * followed: the body carries the refresh token and must reach only the configured URL.
 * A refused grant is a PreconditionError whose reason names it (a person must act); an
 * unreachable or failing endpoint is an UnavailableError (retried with backoff). The
 * endpoint's error text is quoted, shortened; our secrets never are.
 */
export const refreshAccessToken: TokenEndpoint = async (req, signal) => {
  const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: req.refreshToken.reveal(), client_id: req.clientId });
  if (req.clientSecret) body.set('client_secret', req.clientSecret.reveal());
  if (req.scope) body.set('scope', req.scope);
  const where = new URL(req.tokenUrl).host;
  let res: Response;
  try {
    res = await fetch(req.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(TIMEOUT_MS)]) : AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw new UnavailableError(`the token endpoint at ${where} did not answer: ${(err as Error).message}`, { cause: err, reason: 'OAUTH_TOKEN_ENDPOINT_UNAVAILABLE' });
  }
  const text = await readLimited(res, where);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw unavailable(where, `HTTP ${res.status} without a JSON body`);
  }
  if (res.ok && typeof json['access_token'] === 'string' && json['access_token'] !== '') {
    const expires = Number(json['expires_in']);
    return {
      accessToken: json['access_token'],
      expiresInSeconds: Number.isFinite(expires) && expires > 0 ? expires : 3600,
      refreshToken: typeof json['refresh_token'] === 'string' && json['refresh_token'] !== '' ? json['refresh_token'] : undefined,
    };
  }
  const error = typeof json['error'] === 'string' ? json['error'] : '';
  const description = typeof json['error_description'] === 'string' ? `: ${clean(json['error_description'])}` : '';
  if (res.status >= 300 && res.status < 400) throw new PreconditionError(`the token endpoint at ${where} redirects (HTTP ${res.status}); give its final URL`, { reason: 'OAUTH_TOKEN_ENDPOINT_REDIRECT' });
  if (res.status >= 500 || res.status === 429) throw unavailable(where, `HTTP ${res.status}${error ? ` ${error}` : ''}`);
  const reason = GRANT_ERRORS[error] ?? 'OAUTH_REFRESH_REFUSED';
  throw new PreconditionError(`the token endpoint at ${where} refused the refresh (HTTP ${res.status} ${error || 'no error code'}${description})`, { reason });
};

async function readLimited(res: Response, where: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = res.body?.getReader();
  if (!reader) return '';
  for (;;) {
    const { done, value } = await reader.read().catch((err: unknown) => {
      throw new UnavailableError(`the token endpoint at ${where} broke off its answer`, { cause: err, reason: 'OAUTH_TOKEN_ENDPOINT_UNAVAILABLE' });
    });
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      throw unavailable(where, `an answer over ${MAX_RESPONSE_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const unavailable = (where: string, what: string) =>
  new UnavailableError(`the token endpoint at ${where} failed (${what}); retrying with backoff`, { reason: 'OAUTH_TOKEN_ENDPOINT_UNAVAILABLE' });

// eslint-disable-next-line no-control-regex -- removing control characters is the point
const clean = (text: string) => text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 300);
