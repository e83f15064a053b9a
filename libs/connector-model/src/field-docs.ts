import type { Locale } from './enums';
import { FIELDS, SECRET_KEYS, SETTING_KEYS, UNITS, choiceLabel, fieldInfo, isSecretKey, type FieldInfo, type SecretKey, type SettingKey } from './fields';

// What the catalogue says about a field, in words: the README's tables, the CLI's help and
// the console's hints all read it from here, so they say the same.

type Key = SettingKey | SecretKey;

/** Whether a new connector must be given the field (no default, nothing computes it, not optional). */
export function isRequired(key: Key): boolean {
  const f = fieldInfo(key);
  return f.default === undefined && f.computed === undefined && !f.optional;
}

/** Where the field applies, when not everywhere: "IMAP", "OAuth2", "with a proxy". */
export function scopeOf(f: FieldInfo, locale: Locale): string | undefined {
  if (f.protocols) return f.protocols.join(', ');
  if (f.auth) return f.auth.map((a) => choiceLabel(FIELDS.authType, a, locale)).join(', ');
  if (f.needsProxy) return locale === 'de' ? 'mit Proxy' : 'with a proxy';
  return undefined;
}

/** A value as a person reads it with its unit: "60 seconds", "Mark as read", "yes". */
export function formatValue(f: FieldInfo, value: string | number | boolean, locale: Locale): string {
  if (f.kind === 'bool') return value ? (locale === 'de' ? 'ja' : 'yes') : locale === 'de' ? 'nein' : 'no';
  if (f.kind === 'enum') return choiceLabel(f, String(value), locale);
  if (f.kind === 'int') return `${typeof value === 'number' ? value.toLocaleString(locale === 'de' ? 'de-DE' : 'en-US') : value}${f.unit ? ` ${UNITS[f.unit][locale]}` : ''}`;
  return String(value);
}

/**
 * "10–86,400 seconds, default 60 seconds": the bounds and default a person needs beside the
 * help. `raw`: enum values as typed (a CLI flag), not as displayed.
 */
export function boundsText(key: Key, locale: Locale, raw = false): string {
  const f = fieldInfo(key);
  const parts: string[] = [];
  const n = (x: number) => x.toLocaleString(locale === 'de' ? 'de-DE' : 'en-US');
  if (f.kind === 'int' && f.min !== undefined && f.max !== undefined) parts.push(`${n(f.min)}–${n(f.max)}${f.unit ? ` ${UNITS[f.unit][locale]}` : ''}`);
  const onOff = (on: boolean) => (on ? (locale === 'de' ? 'an' : 'on') : locale === 'de' ? 'aus' : 'off');
  const shown = (d: string | number | boolean) => (typeof d === 'boolean' ? onOff(d) : raw && f.kind === 'enum' ? String(d) : formatValue(f, d, locale));
  if (f.default !== undefined) parts.push(`${locale === 'de' ? 'Standard' : 'default'} ${shown(f.default)}`);
  else if (f.computed) parts.push(`${locale === 'de' ? 'Standard' : 'default'}: ${f.computed[locale]}`);
  return parts.join(', ');
}

/** The CLI's flags for a field, as typed: `--interval`, `--reprocess` / `--no-reprocess`, `--password-stdin` / `--password-file`. */
export function flagsOf(key: Key): string[] {
  const f = fieldInfo(key);
  if (isSecretKey(key)) return [`--${f.flag}-stdin`, `--${f.flag}-file`];
  if (f.kind === 'bool') return [`--${f.flag}`, `--${f.off ?? `no-${f.flag}`}`];
  return [`--${f.flag}`];
}

/** The CLI's help line for a field's flag: its scope, help, bounds and default. */
export function flagHelp(key: Key): string {
  const f = fieldInfo(key);
  const scope = scopeOf(f, 'en');
  const bounds = [f.kind === 'enum' ? `one of ${(f.values ?? []).join(', ')}` : '', boundsText(key, 'en', true)].filter(Boolean).join('; ');
  return `${f.label.en}${scope ? ` (${scope})` : ''}: ${f.help.en}${bounds ? ` (${bounds})` : ''}`;
}

/** The README's glossary: each field's label in both languages (the German one is the original product's) and the API's name. */
export function renderFieldGlossary(): string {
  const rows = [...SETTING_KEYS, ...SECRET_KEYS].map((k) => fieldInfo(k)).map((f) => `| ${f.label.en} | ${f.label.de} | \`${f.api}\` |`);
  return ['| console (English) | console (Deutsch), the original product\'s name | API field |', '|---|---|---|', ...rows].join('\n');
}

function defaultCell(key: Key): string {
  const f = fieldInfo(key);
  if (typeof f.default === 'boolean') return f.default ? 'on' : 'off';
  if (f.default !== undefined) return f.kind === 'enum' || f.kind === 'text' ? `\`${String(f.default)}\`` : formatValue(f, f.default, 'en');
  if (f.computed) return f.computed.en;
  return f.optional ? 'none' : '—';
}

function ruleCell(key: Key): string {
  const f = fieldInfo(key);
  const parts: string[] = [];
  const scope = scopeOf(f, 'en');
  if (isRequired(key)) parts.push(scope && !f.protocols ? `required with ${scope}` : 'required');
  if (isSecretKey(key)) parts.push('write-only', 'no CR/LF/NUL');
  if (f.kind === 'int' && f.min !== undefined && f.max !== undefined) parts.push(`${f.min}–${f.max}`);
  if (f.kind === 'enum') parts.push((f.values ?? []).map((v) => `\`${v}\``).join(', '));
  if (f.text === 'label') parts.push('no control or invisible characters');
  if (f.text === 'line') parts.push('no control characters');
  if (f.maxLength !== undefined) parts.push(f.kind === 'pem' ? `≤ ${f.maxLength / 1024} KiB` : `≤ ${f.maxLength} chars`);
  if (f.rule) parts.push(f.rule);
  if (scope && (f.protocols || f.needsProxy)) parts.push(`only ${f.protocols ? `for ${scope}` : scope}`);
  return parts.join('; ');
}

/** The README's connector settings: label, CLI flag, default and rules of every field, from the catalogue. */
export function renderConnectorTable(): string {
  const rows = [...SETTING_KEYS, ...SECRET_KEYS].map((k) => {
    const f = fieldInfo(k);
    const flags = flagsOf(k).map((x) => `\`${x}${f.kind === 'pem' ? ' FILE' : ''}\``);
    return `| ${f.label.en} | ${flags.join(' / ')} | ${defaultCell(k)} | ${ruleCell(k)} |`;
  });
  return ['| setting | CLI flag | default | rule |', '|---|---|---|---|', ...rows].join('\n');
}
