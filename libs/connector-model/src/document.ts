import { DEFAULTS, defaultPort } from './defaults';
import { FIELDS, SETTING_KEYS, applies, type FieldInfo, type SettingKey, type SettingValue } from './fields';
import type { ConnectorSettings } from './fields';

/**
 * A connector's settings as the config service stores them: one JSON document of the
 * catalogue's fields (FIELDS), so a new setting needs no schema change. Reading fills a
 * setting the document does not have yet (written before the setting existed) with its
 * default — the one place besides validation where defaults apply.
 */
export function settingsToDocument(s: Partial<ConnectorSettings>): string {
  const doc: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) if (s[key] !== undefined) doc[key] = s[key];
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

/**
 * Some settings from a stored document that may be partial (written by a service that kept
 * only some settings, or before a setting existed): each its value, else its catalogue
 * default, else null. For readers that need a few settings, not a whole connector.
 */
export function settingsFromPartialDocument<K extends SettingKey>(json: string | null, keys: readonly K[]): { readonly [P in K]: SettingValue<P> } {
  const doc = json ? (JSON.parse(json) as Partial<Record<SettingKey, unknown>>) : {};
  const out: Partial<Record<SettingKey, unknown>> = {};
  for (const key of keys) out[key] = key in doc ? doc[key] : ((FIELDS[key] as FieldInfo).default ?? null);
  return out as { readonly [P in K]: SettingValue<P> };
}
