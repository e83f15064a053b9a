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
