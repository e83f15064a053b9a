import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { InternalError, PreconditionError } from '@postbote/errors';
import { KeyFile, Keyring, Secret, SecretBox } from './index';

const keyA = randomBytes(32);
const keyB = randomBytes(32);

describe('Secret', () => {
  it('never prints its value', () => {
    const s = new Secret('hunter2');
    const rendered = [String(s), `${s}`, JSON.stringify({ s }), inspect(s), inspect({ nested: { s } })].join(' ');
    assert.doesNotMatch(rendered, /hunter2/);
    assert.equal(s.reveal(), 'hunter2');
  });
});

describe('SecretBox', () => {
  const ring = new Keyring(new Map([['a', keyA]]), 'a');
  const box = new SecretBox(() => ring);

  it('round-trips and stores the key id', () => {
    const sealed = box.seal(new Secret('pässwörd'), 'conn-1');
    assert.equal(sealed.keyId, 'a');
    assert.doesNotMatch(sealed.ciphertext, /pässwörd/);
    assert.equal(box.open(sealed, 'conn-1').reveal(), 'pässwörd');
  });

  it('uses a fresh IV each time', () => {
    assert.notEqual(box.seal(new Secret('x'), 'c').ciphertext, box.seal(new Secret('x'), 'c').ciphertext);
  });

  it('refuses a ciphertext moved to another owner or tampered with', () => {
    const sealed = box.seal(new Secret('pw'), 'conn-1');
    assert.throws(() => box.open(sealed, 'conn-2'), InternalError);
    const raw = Buffer.from(sealed.ciphertext.slice(3), 'base64');
    raw[raw.length - 1] ^= 1;
    assert.throws(() => box.open({ keyId: 'a', ciphertext: 'v1.' + raw.toString('base64') }, 'conn-1'), InternalError);
  });

  it('decrypts under old keys and reports what needs rotation', () => {
    let current = ring;
    const rotating = new SecretBox(() => current);
    const old = rotating.seal(new Secret('pw'), 'c');
    current = ring.withActive('b', keyB);
    assert.equal(rotating.needsRotation(old), true);
    assert.equal(rotating.open(old, 'c').reveal(), 'pw');
    const fresh = rotating.seal(new Secret('pw'), 'c');
    assert.equal(fresh.keyId, 'b');
    assert.equal(rotating.needsRotation(fresh), false);
  });

  it('names a missing key id', () => {
    assert.throws(() => box.open({ keyId: 'gone', ciphertext: 'v1.AAAA' }, 'c'), PreconditionError);
  });
});

describe('Keyring.parse', () => {
  it('reads id:base64 lists and picks the active key', () => {
    const spec = `a:${keyA.toString('base64')},b:${keyB.toString('base64')}`;
    assert.equal(Keyring.parse(spec).activeKeyId, 'b');
    assert.equal(Keyring.parse(spec, 'a').activeKeyId, 'a');
  });
  it('rejects short keys, duplicates and unknown active ids', () => {
    assert.throws(() => Keyring.parse('a:AAAA'), /must be 32 bytes/);
    assert.throws(() => Keyring.parse(`a:${keyA.toString('base64')},a:${keyB.toString('base64')}`), /appears twice/);
    assert.throws(() => Keyring.parse(`a:${keyA.toString('base64')}`, 'z'), /not among/);
  });
});

describe('KeyFile', () => {
  it('creates a 0600 key file once and appends on rotation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-key-'));
    const path = join(dir, 'sub', 'master.key');
    const first = KeyFile.openOrCreate(path, () => new Date('2026-01-02T03:04:05Z'));
    assert.equal(first.created, true);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(first.keyFile.keyring.activeKeyId, 'k20260102T030405Z');
    const again = KeyFile.openOrCreate(path);
    assert.equal(again.created, false);
    assert.equal(again.keyFile.keyring.activeKeyId, first.keyFile.keyring.activeKeyId);

    const id = again.keyFile.addKey();
    assert.notEqual(id, first.keyFile.keyring.activeKeyId);
    assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 2);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(KeyFile.openOrCreate(path).keyFile.keyring.activeKeyId, id);
  });

  it('tightens a loosened key file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-key-'));
    const path = join(dir, 'master.key');
    KeyFile.openOrCreate(path);
    chmodSync(path, 0o644);
    KeyFile.openOrCreate(path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
});
