import { readVar, type EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';
import { hostOf, isLoopback, type Transport } from '@postbote/grpc-runtime';
import { serviceSecurityFromEnv, type ServiceSecurity } from '@postbote/service-clients';

/** Everything the console reads at start, checked once. */
export interface ConsoleConfig {
  readonly address: string;
  /** HTTPS with this process's certificate (POSTBOTE_TLS_CERT_FILE/KEY_FILE); plain HTTP otherwise. */
  readonly https: { readonly cert: Buffer; readonly key: Buffer } | null;
  /** How the console calls the services (its own identity: certificate or internal token). */
  readonly security: ServiceSecurity;
  readonly services: { readonly config: string; readonly storage: string; readonly fetcher: string; readonly trigger: string };
}

export function loadConsoleConfig(env: EnvReader): ConsoleConfig {
  const address = readVar(env, 'CONSOLE_ADDR');
  const security = serviceSecurityFromEnv(env);
  return {
    address,
    https: httpsFrom(security.transport, address),
    security,
    services: { config: readVar(env, 'CONFIG_SERVICE_ADDR'), storage: readVar(env, 'STORAGE_SERVICE_ADDR'), fetcher: readVar(env, 'FETCHER_SERVICE_ADDR'), trigger: readVar(env, 'TRIGGER_SERVICE_ADDR') },
  };
}

/** Sign-in passwords and session cookies never cross a network in clear: plain HTTP only on loopback unless allowed. */
function httpsFrom(transport: Transport, address: string): ConsoleConfig['https'] {
  const tls = transport.tls;
  if (tls?.cert && tls.key) return { cert: tls.cert, key: tls.key };
  if (!isLoopback(hostOf(address)) && !transport.allowPlaintext) {
    throw new ConfigError('CONSOLE_ADDR', `refusing to serve the console on ${address} over plain HTTP: give a certificate and key (POSTBOTE_TLS_CERT_FILE, POSTBOTE_TLS_KEY_FILE), bind to 127.0.0.1, or set POSTBOTE_ALLOW_PLAINTEXT=true behind a TLS-terminating proxy`);
  }
  return null;
}
