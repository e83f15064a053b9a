import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { contentKey, sourceKey } from './dedupe-keys';

describe('dedupe keys', () => {
  it('tell coordinates apart however their parts are cut (NUL separators)', () => {
    const a = sourceKey({ kind: 'IMAP', folder: 'INBOX/1', uidValidity: 23, uid: 4 }, '');
    const b = sourceKey({ kind: 'IMAP', folder: 'INBOX/12', uidValidity: 3, uid: 4 }, '');
    assert.notEqual(a, b);
    assert.notEqual(sourceKey({ kind: 'POP3', uidl: 'x' }, ''), sourceKey({ kind: 'POP3', uidl: 'x' }, 'modseq:5'));
    assert.equal(sourceKey({ kind: 'POP3', uidl: 'x' }, ''), sourceKey({ kind: 'POP3', uidl: 'x' }, ''));
  });

  it('bind content to the Message-ID and the bytes\' hash', () => {
    assert.notEqual(contentKey('<a@x>', 'h1'), contentKey('<a@x>', 'h2'));
    assert.notEqual(contentKey('<a@x>', 'h1'), contentKey('<b@x>', 'h1'));
    assert.match(contentKey('<a@x>', 'h1'), /^[0-9a-f]{64}$/);
  });
});
