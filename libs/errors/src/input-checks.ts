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
 * Characters no name or label a person reads may carry: C0 and C1 controls, DEL, the line
 * and paragraph separators (U+2028/9), and the deceptive ones above.
 */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** A name or label a person reads: `min`–`max` characters (trimmed), none of them invisible or deceptive; null when it is one. */
export function checkLabel(field: string, value: string, min: number, max: number): ValidationError | null {
  const length = [...value.trim()].length;
  if (length < min || length > max) return ValidationError.single(field, 'length', min === max ? `must be ${min} characters` : `must be ${min} to ${max} characters`);
  if (INVISIBLE.test(value) || DECEPTIVE.test(value)) return ValidationError.single(field, 'visible', 'must not contain control, zero-width or bidirectional characters');
  return null;
}
