import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { EnvReader } from '@postbote/env';
import { kafkaClientSecurity, kafkaRefusal, kafkaSecurityFromEnv } from './kafka-security';

const read = (vars: Record<string, string>) => kafkaSecurityFromEnv(new EnvReader(vars));

describe('Kafka security settings', () => {
  it('is plaintext without settings, and SCRAM needs a user name and a password', () => {
    assert.deepEqual(read({}), { tls: null, sasl: null });
    assert.deepEqual(kafkaClientSecurity(read({})), {});
    assert.throws(() => read({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' }), /KAFKA_SASL_PASSWORD/);
    assert.throws(() => read({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_PASSWORD: 'p' }), /KAFKA_SASL_USERNAME/);
    assert.throws(() => read({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }), /KAFKA_SASL_MECHANISM/);
  });

  it('verifies brokers whenever TLS is on, and names a file it cannot read', () => {
    const tls = kafkaClientSecurity(read({ KAFKA_TLS: 'verify', KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }));
    assert.deepEqual(tls.ssl, { rejectUnauthorized: true });
    assert.deepEqual(tls.sasl, { mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    assert.throws(() => read({ KAFKA_TLS_CA_FILE: '/nonexistent/ca.crt' }), /KAFKA_TLS_CA_FILE: cannot read \/nonexistent\/ca\.crt/);
    assert.throws(() => read({ KAFKA_TLS_CERT_FILE: '/x.crt' }), /KAFKA_TLS_CERT_FILE: a client certificate needs TLS/);
  });

  it('tells a refusal no retry changes from an outage', () => {
    assert.match(String(kafkaRefusal({ name: 'KafkaJSSASLAuthenticationError', message: 'SASL SCRAM SHA512 authentication failed' })), /KAFKA_SASL_PASSWORD/);
    assert.match(String(kafkaRefusal({ name: 'KafkaJSNumberOfRetriesExceeded', message: 'x', originalError: { message: 'Connection error: unable to verify the first certificate' } })), /KAFKA_TLS_CA_FILE/);
    assert.equal(kafkaRefusal({ message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092' }), null);
  });
});
