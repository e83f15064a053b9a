import { Secret } from '@postbote/crypto';
import { readVar, type EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';

/**
 * Metadata key carrying the internal token on calls between Postbote services (the
 * fetcher's credential lookups). Both the caller and the config service use this constant.
 */
export const INTERNAL_TOKEN_HEADER = 'x-postbote-internal-token';

/**
 * The internal token from POSTBOTE_INTERNAL_TOKEN (or its _FILE): the config service
 * checks it, the fetcher sends it. One rule for both: at least 16 characters.
 */
export function internalToken(env: EnvReader): Secret | undefined {
  const token = readVar(env, 'POSTBOTE_INTERNAL_TOKEN');
  if (token !== undefined && token.length < 16) throw new ConfigError('POSTBOTE_INTERNAL_TOKEN', 'must be at least 16 characters');
  return token === undefined ? undefined : new Secret(token);
}
