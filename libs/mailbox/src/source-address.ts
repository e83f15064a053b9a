import { isIP } from 'node:net';
import { readVar, type EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';

/**
 * FETCHER_SOURCE_ADDRESS, checked once at boot: an IP address (v4 or v6) or unset. Whether
 * this host owns it shows at the first connection (EADDRNOTAVAIL in the connector's log);
 * checking here would need a socket per start for nothing the first poll does not say.
 */
export function sourceAddressFromEnv(env: EnvReader): string | null {
  const value = readVar(env, 'FETCHER_SOURCE_ADDRESS')?.trim();
  if (!value) return null;
  if (!isIP(value)) throw new ConfigError('FETCHER_SOURCE_ADDRESS', `must be an IP address of this host, got "${value.slice(0, 64)}"`);
  return value;
}
