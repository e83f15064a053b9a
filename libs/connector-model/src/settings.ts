import type { Secret } from '@postbote/crypto';

export const PROTOCOLS = ['POP3', 'IMAP'] as const;
export const SECURITIES = ['NONE', 'SSL', 'TLS'] as const;
export const STRATEGIES = ['MARK_READ', 'DELETE', 'MOVE'] as const;
export const AUTH_TYPES = ['PASSWORD', 'OAUTH2'] as const;
export const OAUTH_PROVIDERS = ['MICROSOFT', 'GOOGLE', 'CUSTOM'] as const;

export type Protocol = (typeof PROTOCOLS)[number];
/** NONE = plaintext; SSL = implicit TLS; TLS = STARTTLS (IMAP) / STLS (POP3). */
export type Security = (typeof SECURITIES)[number];
export type Strategy = (typeof STRATEGIES)[number];
/** PASSWORD = the server's login; OAUTH2 = SASL XOAUTH2/OAUTHBEARER with an access token from a refresh token. */
export type AuthType = (typeof AUTH_TYPES)[number];
/** Presets of the token endpoint, scope and server; CUSTOM names its own token endpoint. */
export type OAuthProvider = (typeof OAUTH_PROVIDERS)[number];

/**
 * A connector's validated settings, without credentials' plaintext — the one shape every
 * service, the CLI and the console share. Field by field it is described (API name, label,
 * kind) in FIELDS, which the contract mappings, the stored document and the CLI's display
 * all follow: a new setting is a new key here, an entry in FIELDS and its rule in validate.
 */
export interface ConnectorSettings {
  readonly name: string;
  readonly protocol: Protocol;
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly security: Security;
  readonly connectTimeoutMs: number;
  readonly fetchTimeoutMs: number;
  readonly pollIntervalSeconds: number;
  readonly batchSize: number;
  readonly retentionDays: number;
  readonly reprocess: boolean;
  readonly workflowId: string;
  readonly enabled: boolean;
  /** IMAP: folder to watch in "/" notation, e.g. "INBOX/Incidents"; null for POP3. */
  readonly folder: string | null;
  /** IMAP: what happens on the server once an email is stored; null for POP3. */
  readonly strategy: Strategy | null;
  /** IMAP MOVE: target folder in "/" notation; null otherwise. */
  readonly moveTo: string | null;
  /** IMAP: keep a connection in IDLE and run as soon as the server announces mail; null for POP3. */
  readonly push: boolean | null;
  /** PEM bundle trusted in addition to the system CAs; null for none. */
  readonly trustedCaPem: string | null;
  readonly authType: AuthType;
  /** OAUTH2: where the token endpoint and scope came from; null with PASSWORD (as are the other oauth* settings). */
  readonly oauthProvider: OAuthProvider | null;
  readonly oauthClientId: string | null;
  /** OAUTH2: the token endpoint the refresh token (and client secret) is sent to. */
  readonly oauthTokenUrl: string | null;
  /** OAUTH2: the scope asked for on refresh; null asks for the grant's scope. */
  readonly oauthScope: string | null;
  /** `socks5://[user@]host:port` or `http://[user@]host:port` (HTTP CONNECT) the mail server is reached through; null: direct. */
  readonly proxyUrl: string | null;
}

/** The write-only secrets beside the settings: sealed at rest, never in a response, never logged. */
export const SECRET_KEYS = ['password', 'oauthClientSecret', 'oauthRefreshToken', 'proxyPassword'] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];
export type Secrets = { readonly [K in SecretKey]?: Secret };

/**
 * Settings as a client sends them: everything optional and unchecked. Enumerations arrive
 * as strings so the validator can name a bad value's field. Secrets travel apart,
 * wrapped as Secrets from where they enter.
 */
export type ConnectorSpecInput = {
  -readonly [K in keyof ConnectorSettings]?: NonNullable<ConnectorSettings[K]> extends number ? number : NonNullable<ConnectorSettings[K]> extends boolean ? boolean : string;
} & { [K in SecretKey]?: Secret | undefined };

/** A stored connector as services hand it out: settings and bookkeeping, never a secret. */
export interface ConnectorRecord extends ConnectorSettings {
  readonly id: string;
  /** The workspace that owns it (set at creation, never changed). */
  readonly workspace: string;
  /** Which secrets are stored (shown as "set"; their values never leave the config service's store). */
  readonly secretsSet: readonly SecretKey[];
  readonly revision: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** An IMAP connector's folder settings (never null once validated); throws for POP3. */
export function imapPart(s: ConnectorSettings): { readonly folder: string; readonly strategy: Strategy; readonly moveTo: string | null; readonly push: boolean } {
  if (s.protocol !== 'IMAP' || s.folder === null || s.strategy === null) throw new Error(`connector "${s.name}" has no IMAP folder settings`);
  return { folder: s.folder, strategy: s.strategy, moveTo: s.moveTo, push: s.push ?? false };
}
