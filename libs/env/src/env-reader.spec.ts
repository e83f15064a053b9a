import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError } from '@postbote/errors';
import { EnvReader } from './env-reader';

describe('EnvReader', () => {
  it('applies fallbacks and parses types', () => {
    const env = new EnvReader({ N: '42', B: 'yes', L: 'a, b,,c' });
    assert.equal(env.int('N', 1, { min: 0, max: 100 }), 42);
    assert.equal(env.int('MISSING', 7, { min: 0, max: 100 }), 7);
    assert.equal(env.bool('B', false), true);
    assert.deepEqual(env.list('L'), ['a', 'b', 'c']);
  });

  it('fails fast naming the bad variable', () => {
    const env = new EnvReader({ N: 'abc', R: '500', B: 'maybe', A: 'nohost' });
    assert.throws(() => env.int('N', 1, { min: 0, max: 10 }), (e: unknown) => e instanceof ConfigError && e.variable === 'N');
    assert.throws(() => env.int('R', 1, { min: 0, max: 10 }), /R: must be between 0 and 10/);
    assert.throws(() => env.bool('B', true), /B: must be true or false/);
    assert.throws(() => env.address('A', 'x:1'), /A: must be host:port/);
    assert.throws(() => env.required('NOPE'), /NOPE: is required/);
  });

  it('reads secrets from NAME_FILE and never echoes them', () => {
    const files: Record<string, string> = { '/run/secrets/k': 'top-secret\n' };
    const reader = (p: string) => {
      const v = files[p];
      if (v === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return v;
    };
    assert.equal(new EnvReader({ K_FILE: '/run/secrets/k' }, reader).secret('K'), 'top-secret');
    assert.equal(new EnvReader({ K: 'inline' }, reader).secret('K'), 'inline');
    assert.throws(() => new EnvReader({ K: 'a', K_FILE: '/run/secrets/k' }, reader).secret('K'), /either K or K_FILE/);
    assert.throws(() => new EnvReader({ K_FILE: '/missing' }, reader).secret('K'), /K_FILE: cannot read \/missing: ENOENT/);
  });
});
