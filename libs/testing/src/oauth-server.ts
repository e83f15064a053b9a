import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/**
 * The port the test Dovecot's oauth2 passdb asks for token introspection
 * (scripts/test-env.sh). One test file at a time may run the server.
 */
export const OAUTH_PORT = 21180;

interface Grant {
  readonly username: string;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  revoked: boolean;
}

export interface OAuthServerOptions {
  /** Issue a new refresh token on every refresh and invalidate the old one (strict rotation). */
  readonly rotate?: boolean;
  readonly accessTokenSeconds?: number;
}

/**
 * An OAuth2 authorization server on loopback, as far as a mail client meets one: the
 * refresh_token grant at /token (RFC 6749 §6, errors as §5.2) and token introspection at
 * /introspect (RFC 7662) for Dovecot's oauth2 passdb. Tokens are random; grants can be
 * revoked and access tokens expired at will.
 */
export class OAuthServer {
  readonly #grants = new Map<string, Grant>();
  readonly #access = new Map<string, { username: string; expiresAt: number }>();
  /** Refresh requests seen (each a call of the token endpoint). */
  refreshes = 0;
  /** The refresh tokens sent to /token, in order. */
  readonly refreshTokensSeen: string[] = [];
  readonly #refreshesBy = new Map<string, number>();
  /** Answer /token with this HTTP status and no token (an outage), when set. */
  failWith: number | undefined;

  private constructor(
    private readonly server: Server,
    readonly options: OAuthServerOptions,
  ) {}

  static async start(options: OAuthServerOptions = {}, port = OAUTH_PORT): Promise<OAuthServer> {
    const box: { self?: OAuthServer } = {};
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const [status, body] = box.self ? box.self.#handle(req.method ?? '', req.url ?? '', form) : [503, {}];
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    box.self = new OAuthServer(server, options);
    return box.self;
  }

  get tokenUrl(): string {
    const a = this.server.address();
    return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : OAUTH_PORT}/token`;
  }

  /** A refresh token for the user, as a person's consent would give the operator. */
  grant(username: string, clientId: string, clientSecret?: string): string {
    const token = `rt-${randomBytes(12).toString('hex')}`;
    this.#grants.set(token, { username, clientId, clientSecret, revoked: false });
    return token;
  }

  /** Revokes every grant of the user (a password reset, an admin's revocation). */
  revoke(username: string): void {
    for (const g of this.#grants.values()) if (g.username === username) g.revoked = true;
  }

  /** Successful refreshes of the user's grants. */
  refreshesOf(username: string): number {
    return this.#refreshesBy.get(username) ?? 0;
  }

  /** Every access token issued so far stops being valid (the mail server refuses it). */
  expireAccessTokens(): void {
    for (const t of this.#access.values()) t.expiresAt = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #handle(method: string, url: string, form: URLSearchParams): [number, Record<string, unknown>] {
    if (method !== 'POST') return [405, { error: 'invalid_request' }];
    if (url === '/introspect') {
      const t = this.#access.get(form.get('token') ?? '');
      return [200, t && t.expiresAt > Date.now() ? { active: true, username: t.username } : { active: false }];
    }
    if (url !== '/token') return [404, { error: 'not_found' }];
    this.refreshes++;
    if (this.failWith !== undefined) return [this.failWith, { error: 'temporarily_unavailable' }];
    if (form.get('grant_type') !== 'refresh_token') return [400, { error: 'unsupported_grant_type' }];
    const presented = form.get('refresh_token') ?? '';
    this.refreshTokensSeen.push(presented);
    const grant = this.#grants.get(presented);
    if (!grant || grant.revoked) return [400, { error: 'invalid_grant', error_description: 'the refresh token was revoked or has expired' }];
    if (grant.clientId !== form.get('client_id') || (grant.clientSecret !== undefined && grant.clientSecret !== form.get('client_secret'))) {
      return [401, { error: 'invalid_client', error_description: 'client authentication failed' }];
    }
    this.#refreshesBy.set(grant.username, this.refreshesOf(grant.username) + 1);
    const seconds = this.options.accessTokenSeconds ?? 3600;
    const access = `at-${randomBytes(12).toString('hex')}`;
    this.#access.set(access, { username: grant.username, expiresAt: Date.now() + seconds * 1000 });
    const body: Record<string, unknown> = { access_token: access, token_type: 'Bearer', expires_in: seconds };
    if (this.options.rotate) {
      grant.revoked = true;
      body['refresh_token'] = this.grant(grant.username, grant.clientId, grant.clientSecret);
    }
    return [200, body];
  }
}
