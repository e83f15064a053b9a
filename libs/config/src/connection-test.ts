import { RateLimiter, type Scope } from '@postbote/auth';
import { imapPart, resolveCreate, resolveUpdate, type ConnectorSettings, type ConnectorSpecInput, type Secrets } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import { ValidationError } from '@postbote/errors';
import { listImapFolders, testImap } from '@postbote/imap';
import { testPop3 } from '@postbote/pop3';
import type { Login, ServerAccess, TestStepResult } from '@postbote/mailbox';
import type { Actor, AuditLog } from './audit-log';
import type { ConnectorRegistry } from './connector-registry';
import { refreshRequestFor, type TokenEndpoint } from './oauth-token-endpoint';
import type { OAuthTokens } from './oauth-tokens';
import type { WorkspaceRecord, Workspaces } from './workspaces';

export type TestTarget = { readonly ref: string; readonly overrides?: ConnectorSpecInput } | { readonly spec: ConnectorSpecInput };

/**
 * Connection tests and folder listings log in to a mail server. They are limited, so
 * nobody can use Postbote to hammer a server (or lock a mailbox's account with repeated
 * logins) — per caller, per connector, and per workspace as its quota says — and audited,
 * since stored secrets are used. A suspended workspace tests nothing.
 */
export class ConnectionTests {
  /** Per workspace, at its quota (rebuilt when the quota changes). */
  readonly #perWorkspace = new Map<string, { perMinute: number; limiter: RateLimiter }>();
  /** Unsaved settings, per caller: a probe of arbitrary servers. */
  readonly #unsaved: RateLimiter;
  /** A stored connector, per connector: every test is a login with its password. */
  readonly #stored: RateLimiter;

  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly workspaces: Workspaces,
    private readonly audit: AuditLog,
    private readonly oauth: OAuthTokens,
    private readonly endpoint: TokenEndpoint,
    private readonly now: () => number,
    /** FETCHER_SOURCE_ADDRESS: a test goes out the way the fetcher's polls do. */
    private readonly sourceAddress: string | null = null,
  ) {
    this.#unsaved = new RateLimiter({ burst: 5, everyMs: 6_000, now, what: 'connection tests of unsaved settings' });
    this.#stored = new RateLimiter({ burst: 5, everyMs: 6_000, now, what: 'connection tests of this connector' });
  }

  async test(scope: Scope, target: TestTarget, actor: Actor): Promise<TestStepResult[]> {
    const resolved = await this.#resolve(scope, target, actor, 'CONNECTION_TESTED');
    const { settings } = resolved;
    // OAUTH2: the token exchange is the first step a person sees, with its time.
    const steps: TestStepResult[] = [];
    let login: Login;
    const t0 = this.now();
    try {
      login = await this.#login(resolved);
      if (settings.authType === 'OAUTH2') steps.push({ name: 'OAUTH2', ok: true, detail: `access token from ${new URL(settings.oauthTokenUrl ?? '').host}`, durationMs: this.now() - t0 });
    } catch (err) {
      return [{ name: 'OAUTH2', ok: false, detail: (err as Error).message, durationMs: this.now() - t0 }];
    }
    const server = access(settings, login, this.sourceAddress, resolved.secrets.proxyPassword);
    return [...steps, ...(settings.protocol === 'IMAP' ? await testImap(server, imapPart(settings).folder) : await testPop3(server))];
  }

  async folders(scope: Scope, target: TestTarget, actor: Actor): Promise<string[]> {
    const resolved = await this.#resolve(scope, target, actor, 'FOLDERS_LISTED');
    if (resolved.settings.protocol !== 'IMAP') throw ValidationError.single('protocol', 'imap-only', 'POP3 mailboxes have no folders');
    return listImapFolders(access(resolved.settings, await this.#login(resolved), this.sourceAddress, resolved.secrets.proxyPassword));
  }

  /**
   * Settings and secrets: a stored connector (its stored secrets unless the overrides carry
   * new ones; overrides that change where a secret goes need it again, as an update does) or
   * unsaved settings, validated like a create (name and workflow may be left out).
   */
  async #resolve(scope: Scope, target: TestTarget, actor: Actor, action: 'CONNECTION_TESTED' | 'FOLDERS_LISTED'): Promise<Resolved> {
    if ('ref' in target) {
      const { connector, secrets: stored } = await this.registry.credentials(scope, target.ref);
      const { settings, secrets: given } = target.overrides ? resolveUpdate(connector, target.overrides, connector.secretsSet) : { settings: connector, secrets: {} };
      this.#takeWorkspace(await this.workspaces.forChange(scope));
      this.#stored.take(connector.id);
      const overridden = target.overrides ? Object.keys(target.overrides).filter((k) => target.overrides?.[k as keyof ConnectorSpecInput] !== undefined) : [];
      await this.audit.record(actor, action, { type: 'connector', id: connector.id, name: connector.name }, overridden.length ? `with changed ${overridden.join(', ')}` : '');
      // Only the stored secrets as they are may use (and refresh) the connector's cached token.
      const asStored = Object.values(given).every((v) => v === undefined) && settings.authType === connector.authType;
      return { settings, secrets: { ...stored, ...given }, stored: asStored ? { id: connector.id, revision: connector.revision } : undefined };
    }
    const { settings, secrets } = resolveCreate({
      ...target.spec,
      name: target.spec.name ?? 'connection-test',
      workflowId: target.spec.workflowId ?? 'connection-test',
    });
    this.#takeWorkspace(await this.workspaces.forChange(scope));
    this.#unsaved.take(actor.who);
    await this.audit.record(actor, action, undefined, `unsaved ${settings.protocol} settings for ${settings.host}:${settings.port}`);
    return { settings, secrets, stored: undefined };
  }

  #takeWorkspace(w: WorkspaceRecord): void {
    const perMinute = w.quotas.connectionTestsPerMinute;
    if (perMinute === 0) return;
    let entry = this.#perWorkspace.get(w.id);
    if (entry?.perMinute !== perMinute) {
      entry = { perMinute, limiter: new RateLimiter({ burst: perMinute, everyMs: 60_000 / perMinute, now: this.now, what: `connection tests in workspace ${w.id} (its limit: ${perMinute} a minute)` }) };
      this.#perWorkspace.set(w.id, entry);
    }
    entry.limiter.take(w.id);
  }

  /**
   * The login a test sends. OAUTH2 asks the token endpoint first: for a stored connector
   * tested as stored, through its cached token; otherwise a refresh with the given secrets
   * (a refresh token rotated by such a test is not kept).
   */
  async #login(r: Resolved): Promise<Login> {
    const { settings, secrets } = r;
    if (settings.authType !== 'OAUTH2') return { kind: 'PASSWORD', password: secrets.password ?? new Secret('') };
    const token = r.stored ? (await this.oauth.accessToken(r.stored.id, settings, secrets, r.stored.revision)).token : await this.#refreshUnsaved(settings, secrets);
    return { kind: 'OAUTH2', accessToken: token };
  }

  async #refreshUnsaved(settings: ConnectorSettings, secrets: Secrets): Promise<Secret> {
    const req = refreshRequestFor(settings, secrets);
    if (!req) throw ValidationError.single('spec.oauth_refresh_token', 'required', 'is required to test OAuth2 settings');
    const got = await this.endpoint(req);
    return new Secret(got.accessToken);
  }
}

interface Resolved {
  readonly settings: ConnectorSettings;
  readonly secrets: Secrets;
  /** Set when the connector is tested with its stored secrets and auth type: its cached token may serve. */
  readonly stored: { readonly id: string; readonly revision: number } | undefined;
}

function access(settings: ConnectorSettings, login: Login, sourceAddress: string | null, proxyPassword: Secret | undefined): ServerAccess {
  return {
    host: settings.host,
    port: settings.port,
    security: settings.security,
    trustedCaPem: settings.trustedCaPem,
    username: settings.username,
    login,
    connectTimeoutMs: settings.connectTimeoutMs,
    sourceAddress,
    proxy: settings.proxyUrl ? { url: settings.proxyUrl, password: proxyPassword ?? null } : null,
  };
}
