import { Secret } from '@postbote/crypto';
import { readVar, type EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';

/**
 * The internal token from POSTBOTE_INTERNAL_TOKEN (or its _FILE): every service's gate
 * accepts it as a service identity, services send it where they have no client
 * certificate. One rule for all: at least 16 characters.
 */
export function internalToken(env: EnvReader): Secret | undefined {
  const token = readVar(env, 'POSTBOTE_INTERNAL_TOKEN');
  if (token !== undefined && token.length < 16) throw new ConfigError('POSTBOTE_INTERNAL_TOKEN', 'must be at least 16 characters');
  return token === undefined ? undefined : new Secret(token);
}
