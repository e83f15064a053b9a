import type { ConnectionLimits } from './connection-guard';
import { isIP } from 'node:net';
import { credentials, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { readPemFile, readVar, type EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';

/**
 * How this process protects its gRPC connections, read once from POSTBOTE_TLS_*. TLS is
 * on when a certificate or a CA file is given. A server needs the certificate and key; a
 * client presents them when it has them (mutual TLS) and verifies servers against the CA
 * file (or the system CAs).
 */
export interface Transport {
  readonly tls: TlsMaterial | null;
  /** Plaintext is allowed beyond loopback (POSTBOTE_ALLOW_PLAINTEXT). */
  readonly allowPlaintext: boolean;
  /** What a listening port accepts (EDGE_*); the defaults when absent. Clients ignore it. */
  readonly edge?: ConnectionLimits;
}

export interface TlsMaterial {
  readonly cert: Buffer | null;
  readonly key: Buffer | null;
  readonly ca: Buffer | null;
  /** A server accepts only clients with a certificate its CA signed; their identity is the certificate's. */
  readonly requireClientCerts: boolean;
}

export const PLAINTEXT_LOOPBACK: Transport = Object.freeze({ tls: null, allowPlaintext: false });

export function transportFromEnv(env: EnvReader): Transport {
  const certFile = readVar(env, 'POSTBOTE_TLS_CERT_FILE');
  const keyFile = readVar(env, 'POSTBOTE_TLS_KEY_FILE');
  const caFile = readVar(env, 'POSTBOTE_TLS_CA_FILE');
  const allowPlaintext = readVar(env, 'POSTBOTE_ALLOW_PLAINTEXT');
  const edge: ConnectionLimits = { perPeer: readVar(env, 'EDGE_MAX_CONNECTIONS_PER_PEER'), total: readVar(env, 'EDGE_MAX_CONNECTIONS'), handshakeMs: readVar(env, 'EDGE_HANDSHAKE_TIMEOUT_MS') };
  if (!certFile && !caFile) {
    if (keyFile) throw new ConfigError('POSTBOTE_TLS_CERT_FILE', 'is required with POSTBOTE_TLS_KEY_FILE');
    return { tls: null, allowPlaintext, edge };
  }
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new ConfigError(certFile ? 'POSTBOTE_TLS_KEY_FILE' : 'POSTBOTE_TLS_CERT_FILE', 'certificate and key are given together');
  }
  const requireClientCerts = readVar(env, 'POSTBOTE_TLS_CLIENT_AUTH') === 'require';
  return {
    tls: {
      cert: certFile ? readPemFile('POSTBOTE_TLS_CERT_FILE', certFile) : null,
      key: keyFile ? readPemFile('POSTBOTE_TLS_KEY_FILE', keyFile) : null,
      ca: caFile ? readPemFile('POSTBOTE_TLS_CA_FILE', caFile) : null,
      requireClientCerts,
    },
    allowPlaintext,
    edge,
  };
}


/** Credentials for a server bound to `address`; plaintext beyond loopback is refused unless allowed. */
export function serverCredentials(transport: Transport, address: string): ServerCredentials {
  const tls = transport.tls;
  if (!tls) {
    if (!isLoopback(hostOf(address)) && !transport.allowPlaintext) {
      throw new ConfigError(
        'POSTBOTE_TLS_CERT_FILE',
        `refusing to serve ${address} without TLS: give a certificate and key (POSTBOTE_TLS_CERT_FILE, POSTBOTE_TLS_KEY_FILE), bind to 127.0.0.1, or set POSTBOTE_ALLOW_PLAINTEXT=true inside a network that encrypts by itself`,
      );
    }
    return ServerCredentials.createInsecure();
  }
  if (!tls.cert || !tls.key) throw new ConfigError('POSTBOTE_TLS_CERT_FILE', 'a TLS server needs a certificate and key');
  if (tls.requireClientCerts && !tls.ca) {
    throw new ConfigError('POSTBOTE_TLS_CA_FILE', 'mutual TLS needs the CA that signs client certificates (or set POSTBOTE_TLS_CLIENT_AUTH=none)');
  }
  return ServerCredentials.createSsl(tls.requireClientCerts ? tls.ca : null, [{ cert_chain: tls.cert, private_key: tls.key }], tls.requireClientCerts);
}

/** Credentials for calls to `address`; credentials never travel in clear beyond loopback unless allowed. */
export function channelCredentials(transport: Transport, address: string): ChannelCredentials {
  const tls = transport.tls;
  if (!tls) {
    if (!isLoopback(hostOf(address)) && !transport.allowPlaintext) {
      throw new ConfigError(
        'POSTBOTE_TLS_CA_FILE',
        `refusing to call ${address} without TLS (credentials would travel in clear): configure POSTBOTE_TLS_CA_FILE, use a loopback address, or set POSTBOTE_ALLOW_PLAINTEXT=true`,
      );
    }
    return credentials.createInsecure();
  }
  if (isIP(hostOf(address))) quietIpServerNameWarning();
  return credentials.createSsl(tls.ca, tls.key, tls.cert);
}

let ipServerNameQuiet = false;

/**
 * grpc-js sends the target host as the TLS server name even when it is an IP address
 * (grpc/grpc-node#1919), and Node then prints DEP0123 on the first such connection, into the
 * CLI's output. The certificate is still checked against the address (an IP SAN); only the SNI
 * is odd. That one warning is dropped; every other warning passes.
 */
function quietIpServerNameWarning(): void {
  if (ipServerNameQuiet) return;
  ipServerNameQuiet = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const code = typeof rest[0] === 'object' && rest[0] !== null ? (rest[0] as { code?: unknown }).code : rest[1];
    if (code === 'DEP0123') return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

export function hostOf(address: string): string {
  const i = address.lastIndexOf(':');
  const host = i < 0 ? address : address.slice(0, i);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
