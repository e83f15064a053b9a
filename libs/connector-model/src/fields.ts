import { PROTOCOLS, SECURITIES, STRATEGIES, type ConnectorSettings, type Protocol } from './settings';

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
  /** enum: the allowed values. */
  readonly values?: readonly string[];
  /** int: the unit a person reads with the value. */
  readonly unit?: 'ms' | 's' | 'days';
  /** Only for these protocols (null on the others). */
  readonly protocols?: readonly Protocol[];
  /**
   * Decides where the stored password is sent: changing it requires the password again,
   * so nobody who may edit a connector can redirect its secret to a server of their own.
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
  name: { api: 'name', label: 'Name', german: 'Name', help: 'unique name, ignoring case', kind: 'text' },
  protocol: { api: 'protocol', label: 'Protocol', german: 'Protokoll', help: 'POP3 or IMAP; cannot change after creation', kind: 'enum', values: PROTOCOLS },
  host: { api: 'host', label: 'Server', german: 'Server', help: 'DNS name or IP address of the mail server', kind: 'text', bindsSecret: true },
  port: { api: 'port', label: 'Port', german: 'Port', help: 'default from protocol and security: POP3 110/995, IMAP 143/993', kind: 'int', bindsSecret: true },
  username: { api: 'username', label: 'Username', german: 'Benutzername', help: 'login name at the mail server', kind: 'text' },
  security: { api: 'security', label: 'Security', german: 'Sicherheit', help: 'SSL (implicit TLS), TLS (STARTTLS) or NONE (discouraged)', kind: 'enum', values: SECURITIES, bindsSecret: true },
  connectTimeoutMs: { api: 'connect_timeout_ms', label: 'Connection timeout', german: 'Verbindungs-Timeout', help: 'connect and log in within this time', kind: 'int', unit: 'ms' },
  fetchTimeoutMs: { api: 'fetch_timeout_ms', label: 'Fetch timeout', german: 'Abruf-Timeout', help: 'a whole run ends after this time', kind: 'int', unit: 'ms' },
  pollIntervalSeconds: { api: 'poll_interval_seconds', label: 'Interval', german: 'Abrufintervall', help: 'time between runs', kind: 'int', unit: 's' },
  batchSize: { api: 'batch_size', label: 'Emails per run', german: 'E-Mails pro Abruf', help: 'the rest come next run', kind: 'int' },
  retentionDays: { api: 'retention_days', label: 'Retention', german: 'Aufbewahrungsdauer', help: 'days stored emails are kept', kind: 'int', unit: 'days' },
  reprocess: { api: 'reprocess', label: 'Reprocess', german: 'Erneut verarbeiten', help: 'process an email again when the mailbox presents it as new again', kind: 'bool' },
  workflowId: { api: 'workflow_id', label: 'Workflow', german: 'Workflow', help: 'the workflow each email starts', kind: 'text' },
  enabled: { api: 'enabled', label: 'Enabled', german: 'Aktiv', help: 'polled when enabled', kind: 'bool' },
  folder: { api: 'folder', label: 'Folder', german: 'Ordner', help: 'folder to watch, subfolders with "/" (e.g. Inbox/Incidents)', kind: 'text', protocols: ['IMAP'] },
  strategy: { api: 'strategy', label: 'After storing', german: 'Verarbeitungsstrategie', help: 'mark read, delete or move the email on the server', kind: 'enum', values: STRATEGIES, protocols: ['IMAP'] },
  moveTo: { api: 'move_to', label: 'Move to', german: 'Zielordner', help: 'target folder for MOVE', kind: 'text', protocols: ['IMAP'] },
  push: { api: 'push', label: 'Push (IDLE)', german: 'Sofortabruf (IDLE)', help: 'keep a connection open and fetch as soon as the server announces new mail; the interval stays as a safety net', kind: 'bool', protocols: ['IMAP'] },
  trustedCaPem: { api: 'trusted_ca_pem', label: 'Trusted CA', german: 'Vertrauenswürdige CA', help: 'PEM certificates trusted for this server, besides the system CAs', kind: 'pem', bindsSecret: true },
} as const satisfies { readonly [K in keyof ConnectorSettings]: FieldInfo };

export type SettingKey = keyof ConnectorSettings;

/** The settings' keys in the catalogue's order. */
export const SETTING_KEYS = Object.keys(FIELDS) as SettingKey[];

/** The write-only secret beside the settings (never in a settings document or response). */
export const PASSWORD_FIELD = { api: 'password', label: 'Password', german: 'Passwort', help: 'write-only; never shown', kind: 'text' } as const satisfies FieldInfo;

/** API field name for a spec property, e.g. `spec.poll_interval_seconds`. */
export function specField(key: SettingKey | 'password'): string {
  return `spec.${key === 'password' ? PASSWORD_FIELD.api : FIELDS[key].api}`;
}

/** The settings that decide where the password goes and that differ between `before` and `after`. */
export function secretDestinationChanges(before: ConnectorSettings, after: ConnectorSettings): SettingKey[] {
  return SETTING_KEYS.filter((k) => (FIELDS[k] as FieldInfo).bindsSecret && before[k] !== after[k]);
}
