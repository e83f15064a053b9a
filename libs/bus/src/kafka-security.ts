import type { ConnectionOptions } from 'node:tls';
import type { SASLOptions } from 'kafkajs';
import { readPemFile, readVar, type EnvReader } from '@postbote/env';
import { ConfigError } from '@postbote/errors';

/** How Postbote's Kafka clients protect and authenticate their connections (KAFKA_TLS_*, KAFKA_SASL_*), read once at boot. */
export interface KafkaSecurity {
  /** TLS, the brokers always verified (by `ca`, else the system CAs); null: plaintext. */
  readonly tls: { readonly ca: Buffer | null; readonly cert: Buffer | null; readonly key: Buffer | null } | null;
  readonly sasl: { readonly mechanism: 'scram-sha-512' | 'scram-sha-256'; readonly username: string; readonly password: string } | null;
}

export const PLAINTEXT_KAFKA: KafkaSecurity = Object.freeze({ tls: null, sasl: null });

export function kafkaSecurityFromEnv(env: EnvReader): KafkaSecurity {
  const caFile = readVar(env, 'KAFKA_TLS_CA_FILE');
  const certFile = readVar(env, 'KAFKA_TLS_CERT_FILE');
  const keyFile = readVar(env, 'KAFKA_TLS_KEY_FILE');
  const tlsOn = readVar(env, 'KAFKA_TLS') === 'verify' || Boolean(caFile);
  if (!tlsOn && (certFile || keyFile)) throw new ConfigError(certFile ? 'KAFKA_TLS_CERT_FILE' : 'KAFKA_TLS_KEY_FILE', 'a client certificate needs TLS: set KAFKA_TLS=verify or KAFKA_TLS_CA_FILE');
  if (Boolean(certFile) !== Boolean(keyFile)) throw new ConfigError(certFile ? 'KAFKA_TLS_KEY_FILE' : 'KAFKA_TLS_CERT_FILE', 'certificate and key are given together');
  const tls = tlsOn ? { ca: caFile ? readPemFile('KAFKA_TLS_CA_FILE', caFile) : null, cert: certFile ? readPemFile('KAFKA_TLS_CERT_FILE', certFile) : null, key: keyFile ? readPemFile('KAFKA_TLS_KEY_FILE', keyFile) : null } : null;
  const mechanism = readVar(env, 'KAFKA_SASL_MECHANISM');
  const username = readVar(env, 'KAFKA_SASL_USERNAME');
  const password = readVar(env, 'KAFKA_SASL_PASSWORD');
  if (mechanism === 'none') {
    if (username || password) throw new ConfigError('KAFKA_SASL_MECHANISM', 'is none, but a SASL user name or password is given: set scram-sha-512 (or scram-sha-256)');
    return { tls, sasl: null };
  }
  if (!username) throw new ConfigError('KAFKA_SASL_USERNAME', `is required with KAFKA_SASL_MECHANISM=${mechanism}`);
  if (!password) throw new ConfigError('KAFKA_SASL_PASSWORD', `is required with KAFKA_SASL_MECHANISM=${mechanism}`);
  return { tls, sasl: { mechanism: mechanism as 'scram-sha-512' | 'scram-sha-256', username, password } };
}

/** The kafkajs client options for it: TLS that rejects an unverified broker, and the SASL login. */
export function kafkaClientSecurity(security: KafkaSecurity | undefined): { ssl?: ConnectionOptions; sasl?: SASLOptions } {
  if (!security) return {};
  const tls = security.tls;
  return {
    ...(tls ? { ssl: { rejectUnauthorized: true, ...(tls.ca ? { ca: [tls.ca] } : {}), ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}) } } : {}),
    ...(security.sasl ? { sasl: { mechanism: security.sasl.mechanism, username: security.sasl.username, password: security.sasl.password } as SASLOptions } : {}),
  };
}

/** Codes Node's TLS gives a certificate it cannot trust for this host. */
const UNTRUSTED = /self[- ]signed certificate|unable to verify|unable to get (local )?issuer|certificate has expired|Hostname\/IP does not match/i;

/**
 * A broker's refusal that no retry will change — an untrusted certificate, a refused SASL
 * login — as the configuration error it is, naming the variable to fix; null for anything
 * else (an outage, a broker still starting).
 */
export function kafkaRefusal(err: unknown): ConfigError | null {
  for (let e = err as { name?: string; type?: string; message?: string; code?: string; originalError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    const message = e.message ?? '';
    if (e.name === 'KafkaJSSASLAuthenticationError' || e.type === 'SASL_AUTHENTICATION_FAILED' || /SASL .*authentication failed/i.test(message)) {
      return new ConfigError('KAFKA_SASL_PASSWORD', `the broker refused the SASL login (${message.slice(0, 300)}); check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD`);
    }
    if (UNTRUSTED.test(message) || (e.code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.code))) {
      return new ConfigError('KAFKA_TLS_CA_FILE', `the broker's certificate is not trusted (${message.slice(0, 300)}); give the CA that signed it`);
    }
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return null;
}

