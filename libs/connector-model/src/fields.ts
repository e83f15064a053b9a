import type { TextKind } from '@postbote/errors';
import { AUTH_TYPES, OAUTH_PROVIDERS, PROTOCOLS, SECURITIES, STRATEGIES, type AuthType, type Protocol, type Text } from './enums';

/** How a setting's value looks on the API, in the stored document and to a person. */
export type FieldKind = 'text' | 'int' | 'bool' | 'enum' | 'pem';

/** Where the console's form shows a field (FIELD_GROUPS, in that order). */
export type FieldGroup = 'connection' | 'login' | 'mailbox' | 'schedule' | 'processing';

export type Unit = 'ms' | 's' | 'days';

export interface FieldInfo {
  /** The API's name (proto field, snake_case): errors say `spec.<api>`. */
  readonly api: string;
  /** What a person reads (CLI output, console form, README). The German one is the original product's name. */
  readonly label: Text;
  readonly help: Text;
  readonly kind: FieldKind;
  /** The CLI's flag, without `--`. A bool has `--<flag>` and `--no-<flag>` (or `--<off>`); a secret `--<flag>-stdin` and `--<flag>-file`. */
  readonly flag: string;
  /** bool: the flag that turns it off, when not `no-<flag>`. */
  readonly off?: string;
  readonly group: FieldGroup;
  /** A secret: the setting the console's form shows it after (else at its group's end). */
  readonly after?: string;
  /** text: which characters it may hold (`TextKind`: a `label` people tell apart, or a `line` sent as it is). */
  readonly text?: TextKind;
  /** text: at most this many characters; pem: at most this many bytes. */
  readonly maxLength?: number;
  /** int: the allowed range. */
  readonly min?: number;
  readonly max?: number;
  /** int: the unit a person reads with the value. */
  readonly unit?: Unit;
  /** enum: the allowed values, each with what a person reads for it. */
  readonly values?: readonly string[];
  readonly choices?: { readonly [value: string]: Text };
  /** The value a new connector gets when none is given (none: required, unless `optional` or `computed`). */
  readonly default?: string | number | boolean;
  /** Where the value comes from when none is given, when that is not a plain default. */
  readonly computed?: Text;
  /** A rule of the validator beyond kind, range, length and applicability (README, CLI help). */
  readonly rule?: string;
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

/** The console form's sections, in order. */
export const FIELD_GROUPS: { readonly [G in FieldGroup]: Text } = {
  connection: { en: 'Connection', de: 'Verbindung' },
  login: { en: 'Mailbox login', de: 'Anmeldung am Postfach' },
  mailbox: { en: 'Mailbox', de: 'Postfach' },
  schedule: { en: 'Schedule and limits', de: 'Zeitplan und Grenzen' },
  processing: { en: 'Processing', de: 'Verarbeitung' },
};

export const UNITS: { readonly [U in Unit]: Text } = {
  ms: { en: 'ms', de: 'ms' },
  s: { en: 'seconds', de: 'Sekunden' },
  days: { en: 'days', de: 'Tage' },
};

/**
 * Every connector setting, described once: the API's name, both languages' label and help,
 * kind, bounds, default, CLI flag, form group and where it applies. The settings' type
 * (ConnectorSettings), the defaults, the validator's plain checks, the contract mappings,
 * the stored document, the CLI's flags and display, the console's form and the README's
 * tables all follow this table; a test checks the proto messages carry exactly these fields.
 * Adding a setting: its proto field, an entry here, and the code that uses it.
 */
export const FIELDS = {
  name: {
    api: 'name',
    label: { en: 'Name', de: 'Name' },
    help: { en: 'unique in its workspace, ignoring case', de: 'eindeutig im Arbeitsbereich, ohne Rücksicht auf Groß- und Kleinschreibung' },
    kind: 'text',
    text: 'label',
    maxLength: 100,
    flag: 'name',
    group: 'connection',
  },
  protocol: {
    api: 'protocol',
    label: { en: 'Protocol', de: 'Protokoll' },
    help: { en: 'POP3 or IMAP; cannot change after creation', de: 'POP3 oder IMAP; nach dem Anlegen nicht änderbar' },
    kind: 'enum',
    values: PROTOCOLS,
    choices: { POP3: { en: 'POP3', de: 'POP3' }, IMAP: { en: 'IMAP', de: 'IMAP' } },
    rule: 'cannot change after creation',
    flag: 'protocol',
    group: 'connection',
  },
  host: {
    api: 'host',
    label: { en: 'Server', de: 'Server' },
    help: { en: 'DNS name or IP address of the mail server', de: 'DNS-Name oder IP-Adresse des Mailservers' },
    kind: 'text',
    text: 'line',
    maxLength: 253,
    rule: 'no scheme, port, path or whitespace',
    flag: 'host',
    group: 'connection',
    bindsSecret: true,
  },
  port: {
    api: 'port',
    label: { en: 'Port', de: 'Port' },
    help: { en: 'the mail server\'s port', de: 'Port des Mailservers' },
    kind: 'int',
    min: 1,
    max: 65_535,
    computed: { en: 'POP3 110/995, IMAP 143/993 by security', de: 'POP3 110/995, IMAP 143/993 je nach Sicherheit' },
    flag: 'port',
    group: 'connection',
    bindsSecret: true,
  },
  authType: {
    api: 'auth_type',
    label: { en: 'Login method', de: 'Anmeldeverfahren' },
    help: { en: 'a password, or OAuth2 (Microsoft 365, Gmail: an access token from a refresh token)', de: 'Passwort oder OAuth2 (Microsoft 365, Gmail: Zugriffstoken aus einem Refresh-Token)' },
    kind: 'enum',
    values: AUTH_TYPES,
    choices: { PASSWORD: { en: 'Password', de: 'Passwort' }, OAUTH2: { en: 'OAuth2', de: 'OAuth2' } },
    default: 'PASSWORD',
    flag: 'auth',
    group: 'login',
  },
  username: {
    api: 'username',
    label: { en: 'Username', de: 'Benutzername' },
    help: { en: 'login name at the mail server', de: 'Anmeldename am Mailserver' },
    kind: 'text',
    text: 'line',
    maxLength: 320,
    flag: 'username',
    group: 'login',
  },
  security: {
    api: 'security',
    label: { en: 'Security', de: 'Sicherheit' },
    help: { en: 'SSL (implicit TLS), TLS (STARTTLS) or NONE (discouraged)', de: 'SSL (implizites TLS), TLS (STARTTLS) oder NONE (nicht empfohlen)' },
    kind: 'enum',
    values: SECURITIES,
    choices: {
      SSL: { en: 'SSL (implicit TLS)', de: 'SSL (implizites TLS)' },
      TLS: { en: 'TLS (STARTTLS)', de: 'TLS (STARTTLS)' },
      NONE: { en: 'None (unencrypted)', de: 'Keine (unverschlüsselt)' },
    },
    default: 'SSL',
    rule: 'NONE is accepted with a warning; each run on a server that offers STARTTLS/STLS logs `STARTTLS_AVAILABLE`',
    flag: 'security',
    group: 'connection',
    bindsSecret: true,
  },
  connectTimeoutMs: {
    api: 'connect_timeout_ms',
    label: { en: 'Connection timeout', de: 'Verbindungs-Timeout' },
    help: { en: 'connect and log in within this time', de: 'Verbindungsaufbau und Anmeldung innerhalb dieser Zeit' },
    kind: 'int',
    unit: 'ms',
    min: 1_000,
    max: 300_000,
    default: 30_000,
    flag: 'connect-timeout',
    group: 'schedule',
  },
  fetchTimeoutMs: {
    api: 'fetch_timeout_ms',
    label: { en: 'Fetch timeout', de: 'Abruf-Timeout' },
    help: { en: 'a whole run ends after this time', de: 'ein ganzer Abruf endet nach dieser Zeit' },
    kind: 'int',
    unit: 'ms',
    min: 1_000,
    max: 3_600_000,
    default: 300_000,
    flag: 'fetch-timeout',
    group: 'schedule',
  },
  pollIntervalSeconds: {
    api: 'poll_interval_seconds',
    label: { en: 'Interval', de: 'Abrufintervall' },
    help: { en: 'time between runs', de: 'Zeit zwischen zwei Abrufen' },
    kind: 'int',
    unit: 's',
    // The floor protects mail servers (and our users' accounts) from hammering.
    min: 10,
    max: 86_400,
    default: 60,
    flag: 'interval',
    group: 'schedule',
  },
  batchSize: {
    api: 'batch_size',
    label: { en: 'Emails per run', de: 'E-Mails pro Abruf' },
    help: { en: 'the rest come next run', de: 'der Rest folgt beim nächsten Abruf' },
    kind: 'int',
    min: 1,
    max: 10_000,
    default: 50,
    flag: 'batch',
    group: 'schedule',
  },
  retentionDays: {
    api: 'retention_days',
    label: { en: 'Retention', de: 'Aufbewahrungsdauer' },
    help: { en: 'days stored emails are kept', de: 'so viele Tage bleiben gespeicherte E-Mails erhalten' },
    kind: 'int',
    unit: 'days',
    min: 1,
    max: 3_650,
    default: 30,
    rule: '0 is refused: see `docs/decisions/0004`',
    flag: 'retention',
    group: 'processing',
  },
  reprocess: {
    api: 'reprocess',
    label: { en: 'Reprocess', de: 'Erneut verarbeiten' },
    help: { en: 'process an email again when the mailbox presents it as new again', de: 'eine E-Mail erneut verarbeiten, wenn das Postfach sie wieder als neu anbietet' },
    kind: 'bool',
    default: false,
    flag: 'reprocess',
    group: 'processing',
  },
  workflowId: {
    api: 'workflow_id',
    label: { en: 'Workflow', de: 'Workflow' },
    help: { en: 'the workflow each email starts', de: 'der Workflow, den jede E-Mail startet' },
    kind: 'text',
    text: 'label',
    maxLength: 200,
    flag: 'workflow',
    group: 'processing',
  },
  enabled: {
    api: 'enabled',
    label: { en: 'Enabled', de: 'Aktiv' },
    help: { en: 'polled while enabled', de: 'wird abgerufen, solange aktiv' },
    kind: 'bool',
    default: true,
    flag: 'enable',
    off: 'disable',
    group: 'processing',
  },
  folder: {
    api: 'folder',
    label: { en: 'Folder', de: 'Ordner' },
    help: { en: 'folder to watch, subfolders with "/" (e.g. Inbox/Incidents)', de: 'überwachter Ordner, Unterordner mit „/“ (z. B. Inbox/Incidents)' },
    kind: 'text',
    text: 'line',
    maxLength: 512,
    default: 'INBOX',
    rule: 'no empty levels, no `*` or `%`',
    flag: 'folder',
    group: 'mailbox',
    protocols: ['IMAP'],
  },
  strategy: {
    api: 'strategy',
    label: { en: 'After storing', de: 'Verarbeitungsstrategie' },
    help: { en: 'what happens to the email on the server once it is stored', de: 'was nach dem Speichern mit der E-Mail auf dem Server geschieht' },
    kind: 'enum',
    values: STRATEGIES,
    choices: {
      MARK_READ: { en: 'Mark as read', de: 'Als gelesen markieren' },
      DELETE: { en: 'Delete', de: 'Löschen' },
      MOVE: { en: 'Move to a folder', de: 'In einen Ordner verschieben' },
    },
    default: 'MARK_READ',
    flag: 'strategy',
    group: 'mailbox',
    protocols: ['IMAP'],
  },
  moveTo: {
    api: 'move_to',
    label: { en: 'Move to', de: 'Zielordner' },
    help: { en: 'target folder for MOVE', de: 'Zielordner beim Verschieben' },
    kind: 'text',
    text: 'line',
    maxLength: 512,
    rule: 'required for MOVE, must differ from the folder, only with MOVE',
    flag: 'move-to',
    group: 'mailbox',
    protocols: ['IMAP'],
    optional: true,
  },
  push: {
    api: 'push',
    label: { en: 'Push (IDLE)', de: 'Sofortabruf (IDLE)' },
    help: {
      en: 'keep a connection open and fetch as soon as the server announces new mail; the interval stays as a safety net',
      de: 'eine Verbindung offen halten und abrufen, sobald der Server neue E-Mails meldet; das Intervall bleibt als Sicherheitsnetz',
    },
    kind: 'bool',
    default: true,
    flag: 'push',
    group: 'mailbox',
    protocols: ['IMAP'],
  },
  trustedCaPem: {
    api: 'trusted_ca_pem',
    label: { en: 'Trusted CA', de: 'Vertrauenswürdige CA' },
    help: {
      en: 'PEM certificates trusted for this server besides the system CAs (for a self-signed server certificate)',
      de: 'PEM-Zertifikate, denen für diesen Server zusätzlich zu den System-CAs vertraut wird (bei selbst signiertem Serverzertifikat)',
    },
    kind: 'pem',
    maxLength: 64 * 1024,
    rule: 'only with SSL or TLS',
    flag: 'trusted-ca',
    group: 'connection',
    bindsSecret: true,
    optional: true,
  },
  oauthProvider: {
    api: 'oauth_provider',
    label: { en: 'OAuth2 provider', de: 'OAuth2-Anbieter' },
    help: {
      en: 'Microsoft 365 or Google fill in token endpoint, scope and server; another provider names its own token endpoint',
      de: 'Microsoft 365 oder Google füllen Token-Endpunkt, Scope und Server aus; ein anderer Anbieter nennt seinen Token-Endpunkt selbst',
    },
    kind: 'enum',
    values: OAUTH_PROVIDERS,
    choices: {
      MICROSOFT: { en: 'Microsoft 365', de: 'Microsoft 365' },
      GOOGLE: { en: 'Google (Gmail)', de: 'Google (Gmail)' },
      CUSTOM: { en: 'Other (own token endpoint)', de: 'Anderer (eigener Token-Endpunkt)' },
    },
    default: 'CUSTOM',
    flag: 'oauth-provider',
    group: 'login',
    auth: ['OAUTH2'],
  },
  oauthClientId: {
    api: 'oauth_client_id',
    label: { en: 'OAuth2 client ID', de: 'Client-ID' },
    help: { en: 'the application (client) ID registered with the provider', de: 'die beim Anbieter registrierte Anwendungs-(Client-)ID' },
    kind: 'text',
    text: 'line',
    maxLength: 256,
    flag: 'client-id',
    group: 'login',
    auth: ['OAUTH2'],
  },
  oauthTokenUrl: {
    api: 'oauth_token_url',
    label: { en: 'Token endpoint', de: 'Token-Endpunkt' },
    help: { en: 'https URL the refresh token is exchanged at', de: 'https-URL, an der das Refresh-Token eingetauscht wird' },
    kind: 'text',
    text: 'line',
    maxLength: 2048,
    computed: { en: 'from the provider', de: 'vom Anbieter' },
    rule: '`https` (plain `http` only to loopback), no credentials in the URL',
    flag: 'token-url',
    group: 'login',
    auth: ['OAUTH2'],
    bindsSecret: true,
  },
  proxyUrl: {
    api: 'proxy_url',
    label: { en: 'Proxy', de: 'Proxy' },
    help: {
      en: 'reach the server through socks5://[user@]host:port or http://[user@]host:port (HTTP CONNECT); the proxy password apart',
      de: 'den Server über socks5://[user@]host:port oder http://[user@]host:port (HTTP CONNECT) erreichen; das Proxy-Passwort separat',
    },
    kind: 'text',
    text: 'line',
    computed: { en: 'direct', de: 'direkt' },
    rule: 'no password in the URL',
    flag: 'proxy',
    group: 'connection',
    bindsSecret: true,
    optional: true,
  },
  oauthScope: {
    api: 'oauth_scope',
    label: { en: 'Scope', de: 'Berechtigungen (Scope)' },
    help: { en: 'scopes asked for on refresh, separated by spaces; empty asks for the grant\'s own', de: 'beim Erneuern angefragte Berechtigungen, durch Leerzeichen getrennt; leer: die der Freigabe' },
    kind: 'text',
    text: 'line',
    maxLength: 1024,
    computed: { en: 'from the provider', de: 'vom Anbieter' },
    flag: 'scope',
    group: 'login',
    auth: ['OAUTH2'],
    optional: true,
  },
} as const satisfies { readonly [key: string]: FieldInfo };

type Catalogue = typeof FIELDS;
export type SettingKey = keyof Catalogue;

type Plain<F> = F extends { kind: 'int' } ? number : F extends { kind: 'bool' } ? boolean : F extends { kind: 'enum'; values: readonly (infer V)[] } ? V : string;
type MayLack<F> = F extends { protocols: unknown } ? null : F extends { auth: unknown } ? null : F extends { optional: true } ? null : never;

/** A setting's value in the domain: by its kind, null where it may not apply or may be unset. */
export type SettingValue<K extends SettingKey> = Plain<Catalogue[K]> | MayLack<Catalogue[K]>;

/**
 * A connector's validated settings, without credentials' plaintext — the one shape every
 * service, the CLI and the console share, derived from FIELDS (each setting's meaning is its help there).
 */
export type ConnectorSettings = { readonly [K in SettingKey]: SettingValue<K> };

/** The text settings that name their rule (`text`), checked by it wherever they are validated. */
export type TextKey = { [K in SettingKey]: Catalogue[K] extends { readonly text: TextKind } ? K : never }[SettingKey];

/** The settings' keys in the catalogue's order. */
export const SETTING_KEYS = Object.keys(FIELDS) as SettingKey[];

/**
 * The write-only secrets beside the settings (never in a settings document or response):
 * each travels as `<api>` in a spec and shows as `has_<api>` on a connector.
 */
export const SECRET_FIELDS = {
  password: {
    api: 'password',
    label: { en: 'Password', de: 'Passwort' },
    help: { en: 'write-only; never shown', de: 'nur schreibbar; wird nie angezeigt' },
    kind: 'text',
    maxLength: 1024,
    flag: 'password',
    group: 'login',
    after: 'username',
    auth: ['PASSWORD'],
  },
  oauthClientSecret: {
    api: 'oauth_client_secret',
    label: { en: 'OAuth2 client secret', de: 'Client-Geheimnis' },
    help: { en: 'write-only; confidential clients only (Microsoft public clients have none)', de: 'nur schreibbar; nur für vertrauliche Clients (öffentliche Microsoft-Clients haben keins)' },
    kind: 'text',
    maxLength: 16 * 1024,
    flag: 'client-secret',
    group: 'login',
    after: 'oauthClientId',
    auth: ['OAUTH2'],
    optional: true,
  },
  oauthRefreshToken: {
    api: 'oauth_refresh_token',
    label: { en: 'OAuth2 refresh token', de: 'Refresh-Token' },
    help: { en: 'write-only; a rotated token is stored when the provider returns one', de: 'nur schreibbar; ein erneuertes Token wird gespeichert, wenn der Anbieter eins liefert' },
    kind: 'text',
    // Microsoft's refresh tokens run to a few KB.
    maxLength: 16 * 1024,
    flag: 'refresh-token',
    group: 'login',
    after: 'oauthClientId',
    auth: ['OAUTH2'],
  },
  proxyPassword: {
    api: 'proxy_password',
    label: { en: 'Proxy password', de: 'Proxy-Passwort' },
    help: { en: 'write-only; for a proxy URL with a user name', de: 'nur schreibbar; für eine Proxy-URL mit Benutzernamen' },
    kind: 'text',
    maxLength: 1024,
    flag: 'proxy-password',
    group: 'connection',
    after: 'proxyUrl',
    needsProxy: true,
    optional: true,
  },
} as const satisfies { readonly [key: string]: FieldInfo };

export type SecretKey = keyof typeof SECRET_FIELDS;
/** The secrets' keys in the catalogue's order (also the order several are read from standard input). */
export const SECRET_KEYS = Object.keys(SECRET_FIELDS) as SecretKey[];

/** A setting's or a secret's entry. */
export function fieldInfo(key: SettingKey | SecretKey): FieldInfo {
  return key in SECRET_FIELDS ? SECRET_FIELDS[key as SecretKey] : FIELDS[key as SettingKey];
}

export const isSecretKey = (key: string): key is SecretKey => key in SECRET_FIELDS;

/** The secret a connector logs in with: what an update moving it elsewhere must carry again. */
export function loginSecret(authType: AuthType): SecretKey {
  return authType === 'OAUTH2' ? 'oauthRefreshToken' : 'password';
}

/** API field name for a spec property, e.g. `spec.poll_interval_seconds`. */
export function specField(key: SettingKey | SecretKey): string {
  return `spec.${fieldInfo(key).api}`;
}

/** The setting or secret an API field name (`poll_interval_seconds`) belongs to. */
export function keyOfApi(api: string): SettingKey | SecretKey | undefined {
  return [...SETTING_KEYS, ...SECRET_KEYS].find((k) => fieldInfo(k).api === api);
}

/** The settings that decide where a secret goes and that differ between `before` and `after`. */
export function secretDestinationChanges(before: ConnectorSettings, after: ConnectorSettings): SettingKey[] {
  return SETTING_KEYS.filter((k) => (FIELDS[k] as FieldInfo).bindsSecret && before[k] !== after[k]);
}

/** Whether a setting applies to a connector of this protocol, auth type and proxy (else it is null). */
export function applies(key: SettingKey | SecretKey, protocol: string | null | undefined, authType: string | null | undefined, proxyUrl?: string | null): boolean {
  const f = fieldInfo(key);
  if (f.protocols && !f.protocols.includes(protocol as Protocol)) return false;
  if (f.needsProxy && !proxyUrl) return false;
  return !f.auth || f.auth.includes((authType ?? 'PASSWORD') as AuthType);
}

/** What a person reads for an enum value (its raw value when the catalogue has no display name). */
export function choiceLabel(f: FieldInfo, value: string, locale: 'en' | 'de'): string {
  return f.choices?.[value]?.[locale] ?? value;
}
