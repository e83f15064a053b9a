import type { TokenAuthenticator, TokenCacheOptions } from '@postbote/auth';
import { TokenCache } from '@postbote/auth';
import { authenticatedFromProto } from '@postbote/contract';
import type { Secret } from '@postbote/crypto';
import type { EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';
import { call, connect, createGate, transportFromEnv, type ClientAuth, type Gate, type Transport } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { AuthServiceClient } from '@postbote/proto';
import { internalToken } from './internal-token';

/** How a service protects its connections and proves who it is to the others, read once at boot. */
export interface ServiceSecurity {
  readonly transport: Transport;
  readonly internalToken: Secret | undefined;
}

export function serviceSecurityFromEnv(env: EnvReader): ServiceSecurity {
  return Object.freeze({ transport: transportFromEnv(env), internalToken: internalToken(env) });
}

/**
 * How a service calls another: the internal token where configured, else its TLS client
 * certificate (whose common name the other side's gate reads as this service's name).
 */
export function internalClientAuth(security: ServiceSecurity): ClientAuth {
  if (security.internalToken) return { transport: security.transport, identity: { internalToken: security.internalToken } };
  if (security.transport.tls?.cert) return { transport: security.transport, identity: { certificate: true } };
  throw new ConfigError('POSTBOTE_INTERNAL_TOKEN', 'calls to other Postbote services need an identity: set POSTBOTE_INTERNAL_TOKEN or a TLS client certificate (POSTBOTE_TLS_CERT_FILE)');
}

/**
 * The token authority for a service that is not the config service: AuthService at
 * `configAddress`, its answers cached (revocation reaches this service within the cache
 * time; an outage of the config service keeps recently accepted tokens working).
 */
export function remoteTokenAuthority(security: ServiceSecurity, configAddress: string, options: TokenCacheOptions): TokenAuthenticator {
  let client: AuthServiceClient | undefined;
  const remote: TokenAuthenticator = {
    authenticate: async (token) => {
      client ??= connect(AuthServiceClient, configAddress, internalClientAuth(security));
      return authenticatedFromProto(await call(client.authenticate, client, { token }, { deadlineMs: 5_000 }));
    },
  };
  return new TokenCache(remote, options);
}

/** The gate of a service's server: its own internal token and certificate rules, tokens from `tokens`. */
export function serviceGate(security: ServiceSecurity, tokens: TokenAuthenticator, logger: Logger): Gate {
  return createGate({ tokens, internalToken: security.internalToken, logger });
}
