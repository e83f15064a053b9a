import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API tokens look like `pbt_<id>_<secret>`: the prefix lets secret scanners and people
 * recognise one, the id (12 hex digits) finds its row and names it in logs and the audit
 * log, the secret (32 random bytes, base64url) is what proves possession. Only the
 * SHA-256 of the secret is stored: with 256 random bits a slow hash adds nothing, and
 * checking stays cheap enough for every call.
 */
const PREFIX = 'pbt_';
const ID = /^[0-9a-f]{12}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface MintedToken {
  readonly id: string;
  /** The whole token, shown once. */
  readonly token: string;
  readonly secretHash: string;
}

export function mintToken(): MintedToken {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${PREFIX}${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a well-formed token, or null (a malformed one is never looked up). */
export function parseToken(token: string): { id: string; secret: string } | null {
  if (!token.startsWith(PREFIX) || token.length !== PREFIX.length + 12 + 1 + 43) return null;
  const id = token.slice(PREFIX.length, PREFIX.length + 12);
  const secret = token.slice(PREFIX.length + 13);
  if (token[PREFIX.length + 12] !== '_' || !ID.test(id) || !SECRET.test(secret)) return null;
  return { id, secret };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function isTokenId(value: string): boolean {
  return ID.test(value);
}
