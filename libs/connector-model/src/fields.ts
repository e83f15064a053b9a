import type { TextKind } from '@postbote/errors';
import { AUTH_TYPES, OAUTH_PROVIDERS, PROTOCOLS, SECURITIES, STRATEGIES, type AuthType, type ConnectorSettings, type Protocol, type SecretKey } from './settings';

/** How a setting's value looks on the API, in the stored document and to a person. */
export type FieldKind = 'text' | 'int' | 'bool' | 'enum' | 'pem';

export interface FieldInfo {
  /** The API's name (proto field, snake_case): errors say `spec.<api>`. */
  readonly api: string;
  /** What a person reads (CLI output, console form). */
  readonly label: string;
  /** The original product's German field name (the console's glossary). */
  readonly german: string;
  readonly help: string;
  readonly kind: FieldKind;
  /** text: which characters it may hold (`TextKind`: a `label` people tell apart, or a `line` sent as it is). */
  readonly text?: TextKind;
  /** enum: the allowed values. */
  readonly values?: readonly string[];
  /** int: the unit a person reads with the value. */
  readonly unit?: 'ms' | 's' | 'days';
  /** Only for these protocols (null on the others). */
  readonly protocols?: readonly Protocol[];
  /** Only for these auth types (null on the others). */
  readonly auth?: readonly AuthType[];
  /** Only for a connector with a proxy. */
  readonly needsProxy?: true;
  /** May be unset: null in the domain, '' on the API. */
  readonly optional?: true;
  /**
   * Decides where a stored secret is sent: changing it requires the connector's login
   * secret again (the password, or the refresh token with OAUTH2), so nobody who may edit
   * a connector can redirect its secret to a server of their own.
   */
  readonly bindsSecret?: true;
}

/**
 * Every connector setting, described once. Mappings to the API and the stored document,
 * the CLI's display and the console's form iterate this table; `satisfies` makes a setting
 * without an entry (or an entry without a setting) a compile error, and a test checks the
 * proto messages carry exactly these fields.
 */
export const FIELDS = {
  name: { api: 'name', label: 'Name', german: 'Name', help: 'unique name, ignoring case', kind: 'text', text: 'label' },
  protocol: { api: 'protocol', label: 'Protocol', german: 'Protokoll', help: 'POP3 or IMAP; cannot change after creation', kind: 'enum', values: PROTOCOLS },
  host: { api: 'host', label: 'Server', german: 'Server', help: 'DNS name or IP address of the mail server', kind: 'text', text: 'line', bindsSecret: true },
  port: { api: 'port', label: 'Port', german: 'Port', help: 'default from protocol and security: POP3 110/995, IMAP 143/993', kind: 'int', bindsSecret: true },
  username: { api: 'username', label: 'Username', german: 'Benutzername', help: 'login name at the mail server', kind: 'text', text: 'line' },
  security: { api: 'security', label: 'Security', german: 'Sicherheit', help: 'SSL (implicit TLS), TLS (STARTTLS) or NONE (discouraged)', kind: 'enum', values: SECURITIES, bindsSecret: true },
  connectTimeoutMs: { api: 'connect_timeout_ms', label: 'Connection timeout', german: 'Verbindungs-Timeout', help: 'connect and log in within this time', kind: 'int', unit: 'ms' },
  fetchTimeoutMs: { api: 'fetch_timeout_ms', label: 'Fetch timeout', german: 'Abruf-Timeout', help: 'a whole run ends after this time', kind: 'int', unit: 'ms' },
  pollIntervalSeconds: { api: 'poll_interval_seconds', label: 'Interval', german: 'Abrufintervall', help: 'time between runs', kind: 'int', unit: 's' },
  batchSize: { api: 'batch_size', label: 'Emails per run', german: 'E-Mails pro Abruf', help: 'the rest come next run', kind: 'int' },
  retentionDays: { api: 'retention_days', label: 'Retention', german: 'Aufbewahrungsdauer', help: 'days stored emails are kept', kind: 'int', unit: 'days' },
  reprocess: { api: 'reprocess', label: 'Reprocess', german: 'Erneut verarbeiten', help: 'process an email again when the mailbox presents it as new again', kind: 'bool' },
  workflowId: { api: 'workflow_id', label: 'Workflow', german: 'Workflow', help: 'the workflow each email starts', kind: 'text', text: 'label' },
  enabled: { api: 'enabled', label: 'Enabled', german: 'Aktiv', help: 'polled when enabled', kind: 'bool' },
  folder: { api: 'folder', label: 'Folder', german: 'Ordner', help: 'folder to watch, subfolders with "/" (e.g. Inbox/Incidents)', kind: 'text', text: 'line', protocols: ['IMAP'] },
  strategy: { api: 'strategy', label: 'After storing', german: 'Verarbeitungsstrategie', help: 'mark read, delete or move the email on the server', kind: 'enum', values: STRATEGIES, protocols: ['IMAP'] },
  moveTo: { api: 'move_to', label: 'Move to', german: 'Zielordner', help: 'target folder for MOVE', kind: 'text', text: 'line', protocols: ['IMAP'], optional: true },
  push: { api: 'push', label: 'Push (IDLE)', german: 'Sofortabruf (IDLE)', help: 'keep a connection open and fetch as soon as the server announces new mail; the interval stays as a safety net', kind: 'bool', protocols: ['IMAP'] },
  trustedCaPem: { api: 'trusted_ca_pem', label: 'Trusted CA', german: 'Vertrauenswürdige CA', help: 'PEM certificates trusted for this server, besides the system CAs', kind: 'pem', bindsSecret: true, optional: true },
  authType: { api: 'auth_type', label: 'Login', german: 'Anmeldeverfahren', help: 'PASSWORD, or OAUTH2 (Microsoft 365, Gmail: an access token from a refresh token)', kind: 'enum', values: AUTH_TYPES },
  oauthProvider: { api: 'oauth_provider', label: 'OAuth2 provider', german: 'OAuth2-Anbieter', help: 'MICROSOFT or GOOGLE fill in token endpoint, scope and server; CUSTOM names its own token endpoint', kind: 'enum', values: OAUTH_PROVIDERS, auth: ['OAUTH2'] },
  oauthClientId: { api: 'oauth_client_id', label: 'OAuth2 client ID', german: 'Client-ID', help: 'the application (client) ID registered with the provider', kind: 'text', text: 'line', auth: ['OAUTH2'] },
  oauthTokenUrl: { api: 'oauth_token_url', label: 'Token endpoint', german: 'Token-Endpunkt', help: 'https URL the refresh token is exchanged at (from the provider preset unless given)', kind: 'text', text: 'line', auth: ['OAUTH2'], bindsSecret: true },
  proxyUrl: {
    api: 'proxy_url',
    label: 'Proxy',
    german: 'Proxy',
    help: 'reach the server through socks5://[user@]host:port or http://[user@]host:port (HTTP CONNECT); the proxy password apart',
    kind: 'text',
    text: 'line',
    bindsSecret: true,
    optional: true,
  },
  oauthScope: { api: 'oauth_scope', label: 'Scope', german: 'Berechtigungen (Scope)', help: 'scopes asked for on refresh, separated by spaces (from the provider preset unless given)', kind: 'text', text: 'line', auth: ['OAUTH2'], optional: true },
} as const satisfies { readonly [K in keyof ConnectorSettings]: FieldInfo };

export type SettingKey = keyof ConnectorSettings;

/** The text settings that name their rule (`text`), checked by it wherever they are validated. */
export type TextKey = { [K in SettingKey]: (typeof FIELDS)[K] extends { readonly text: TextKind } ? K : never }[SettingKey];

/** The settings' keys in the catalogue's order. */
export const SETTING_KEYS = Object.keys(FIELDS) as SettingKey[];

/**
 * The write-only secrets beside the settings (never in a settings document or response):
 * each travels as `<api>` in a spec and shows as `has_<api>` on a connector.
 */
export const SECRET_FIELDS = {
  password: { api: 'password', label: 'Password', german: 'Passwort', help: 'write-only; never shown', kind: 'text', auth: ['PASSWORD'] },
  oauthClientSecret: { api: 'oauth_client_secret', label: 'OAuth2 client secret', german: 'Client-Geheimnis', help: 'write-only; confidential clients only (Microsoft public clients have none)', kind: 'text', auth: ['OAUTH2'] },
  oauthRefreshToken: { api: 'oauth_refresh_token', label: 'OAuth2 refresh token', german: 'Refresh-Token', help: 'write-only; a rotated token is stored when the provider returns one', kind: 'text', auth: ['OAUTH2'] },
  proxyPassword: { api: 'proxy_password', label: 'Proxy password', german: 'Proxy-Passwort', help: 'write-only; for a proxy URL with a user name', kind: 'text', needsProxy: true },
} as const satisfies { readonly [K in SecretKey]: FieldInfo };

/** The secret a connector logs in with: what an update moving it elsewhere must carry again. */
export function loginSecret(authType: AuthType): SecretKey {
  return authType === 'OAUTH2' ? 'oauthRefreshToken' : 'password';
}

/** API field name for a spec property, e.g. `spec.poll_interval_seconds`. */
export function specField(key: SettingKey | SecretKey): string {
  return `spec.${key in SECRET_FIELDS ? SECRET_FIELDS[key as SecretKey].api : FIELDS[key as SettingKey].api}`;
}

/** The settings that decide where a secret goes and that differ between `before` and `after`. */
export function secretDestinationChanges(before: ConnectorSettings, after: ConnectorSettings): SettingKey[] {
  return SETTING_KEYS.filter((k) => (FIELDS[k] as FieldInfo).bindsSecret && before[k] !== after[k]);
}

/** Whether a setting applies to a connector of this protocol, auth type and proxy (else it is null). */
export function applies(key: SettingKey | SecretKey, protocol: string | null | undefined, authType: string | null | undefined, proxyUrl?: string | null): boolean {
  const f: FieldInfo = key in SECRET_FIELDS ? SECRET_FIELDS[key as SecretKey] : FIELDS[key as SettingKey];
  if (f.protocols && !f.protocols.includes(protocol as Protocol)) return false;
  if (f.needsProxy && !proxyUrl) return false;
  return !f.auth || f.auth.includes((authType ?? 'PASSWORD') as AuthType);
}

/** The README's glossary: the console's label of every field, the original product's German name, the API's name (generated; a test keeps the two equal). */
export function renderFieldGlossary(): string {
  const rows = [...SETTING_KEYS.map((k) => FIELDS[k] as FieldInfo), ...(Object.values(SECRET_FIELDS) as FieldInfo[])].map((f) => `| ${f.label} | ${f.german} | \`${f.api}\` |`);
  return ['| console | original product (German) | API field |', '|---|---|---|', ...rows].join('\n');
}
