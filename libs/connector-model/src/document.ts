import { DEFAULTS, defaultPort } from './defaults';
import { FIELDS, SETTING_KEYS, applies, type FieldInfo, type SettingKey } from './fields';
import type { ConnectorSettings } from './fields';

/**
 * A connector's settings as the config service stores them: one JSON document of the
 * catalogue's fields (FIELDS), so a new setting needs no schema change. Reading fills a
 * setting the document does not have yet (written before the setting existed) with its
 * default — the one place besides validation where defaults apply.
 */
export function settingsToDocument(s: ConnectorSettings): string {
  const doc: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) doc[key] = s[key];
  return JSON.stringify(doc);
}

export function settingsFromDocument(json: string): ConnectorSettings {
  const doc = JSON.parse(json) as Partial<Record<SettingKey, unknown>>;
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) out[key] = key in doc ? doc[key] : defaultOf(key, doc);
  return Object.freeze(out) as unknown as ConnectorSettings;
}

/** A setting's default for a stored connector that predates it. */
function defaultOf(key: SettingKey, doc: Partial<Record<SettingKey, unknown>>): unknown {
  if (!applies(key, String(doc.protocol), String(doc.authType ?? DEFAULTS.authType))) return null;
  if (key === 'port') return defaultPort(doc.protocol === 'IMAP' ? 'IMAP' : 'POP3', (doc.security ?? DEFAULTS.security) as typeof DEFAULTS.security);
  if (key in DEFAULTS) return DEFAULTS[key as keyof typeof DEFAULTS];
  if ((FIELDS[key] as FieldInfo).optional) return null;
  throw new Error(`stored connector lacks the required setting ${key}`);
}
