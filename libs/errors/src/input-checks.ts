import { ValidationError } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Checks an id before anything else looks at it: every id Postbote hands out is a UUID.
 * The value is never echoed (it may be megabytes of anything).
 */
export function requireUuid(field: string, value: string): string {
  if (!UUID.test(value)) throw ValidationError.single(field, 'uuid', value === '' ? 'is required' : 'must be an id (a UUID)');
  return value.toLowerCase();
}

/**
 * Zero-width and bidirectional-control characters. Invisible, they make two names look
 * alike ("support" and "sup\u200Bport") or reorder what a person reads; a name is for
 * people, so it may not carry them.
 */
const DECEPTIVE = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/;

export function hasDeceptiveCharacters(value: string): boolean {
  return DECEPTIVE.test(value);
}

/**
 * How a string is checked, by what it is. Every free-text field names its kind once (the
 * connector catalogue's `text`, or the caller of `checkLabel`); the kinds are:
 * - `label` — a name a person reads and tells apart (connector and token names, workflow
 *   ids, workspace names): no control characters and no zero-width or bidi controls;
 * - `line` — text that reaches a mail server, a provider or a person as it is (user names,
 *   folders, OAuth client ids and scopes, a suspension reason): no control characters.
 * Control characters are C0 (including CR, LF, NUL and ESC), DEL, C1 (including U+0085 NEL)
 * and the line and paragraph separators U+2028/U+2029: each ends a line somewhere, or
 * steers a terminal. Secrets keep their own rule (only CR, LF and NUL, which would end a
 * protocol line; a password may be anything else).
 */
export type TextKind = 'label' | 'line';

const CONTROLS = new Set([0x2028, 0x2029]);
const isControl = (code: number) => code < 0x20 || (code >= 0x7f && code <= 0x9f) || CONTROLS.has(code);

export function hasControlCharacters(value: string): boolean {
  for (const ch of value) if (isControl(ch.codePointAt(0) ?? 0)) return true;
  return false;
}

/** What is wrong with `value` as text of `kind`: a violation's rule and message, or null. */
export function textProblem(kind: TextKind, value: string): { readonly rule: string; readonly message: string } | null {
  if (hasControlCharacters(value)) return { rule: 'no-control', message: 'must not contain control characters (C0, C1, DEL, U+2028, U+2029)' };
  if (kind === 'label' && DECEPTIVE.test(value)) return { rule: 'visible', message: 'must not contain zero-width or bidirectional control characters' };
  return null;
}

/** A name or label a person reads (or, `kind` line, a free text like a reason): `min`–`max` characters (trimmed), by its kind's rule; null when it is one. */
export function checkLabel(field: string, value: string, min: number, max: number, kind: TextKind = 'label'): ValidationError | null {
  const length = [...value.trim()].length;
  if (length < min || length > max) return ValidationError.single(field, 'length', min === max ? `must be ${min} characters` : `must be ${min} to ${max} characters`);
  const problem = textProblem(kind, value);
  return problem ? ValidationError.single(field, problem.rule, problem.message) : null;
}
