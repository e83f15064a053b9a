import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError, UnavailableError, ValidationError, isRetryable } from './errors';

describe('errors', () => {
  it('ValidationError names every field and keeps the violations', () => {
    const err = new ValidationError([
      { field: 'spec.port', rule: 'range', message: 'must be between 1 and 65535' },
      { field: 'spec.host', rule: 'required', message: 'must not be empty' },
    ]);
    assert.equal(err.code, 'INVALID_ARGUMENT');
    assert.match(err.message, /spec\.port: must be between 1 and 65535; spec\.host: must not be empty/);
    assert.equal(err.violations.length, 2);
    assert.equal(err.name, 'ValidationError');
  });

  it('carries retry semantics as data', () => {
    assert.equal(isRetryable(new UnavailableError('db down')), true);
    assert.equal(isRetryable(ValidationError.single('x', 'r', 'm')), false);
    assert.equal(isRetryable(new Error('plain')), false);
  });

  it('ConfigError names the variable', () => {
    assert.equal(new ConfigError('POSTBOTE_PORT', 'must be a number').message, 'POSTBOTE_PORT: must be a number');
  });
});
