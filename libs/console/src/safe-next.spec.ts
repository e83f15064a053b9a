import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { safeNext } from './safe-next';

describe('safeNext', () => {
  it('keeps a path of the console, normalised', () => {
    assert.equal(safeNext('/connectors/abc/emails?since=2026-01-01#x'), '/connectors/abc/emails?since=2026-01-01#x');
    assert.equal(safeNext('/connectors/./abc/../def'), '/connectors/def');
  });

  it('sends anything a browser would read as another host, or anything odd, home', () => {
    for (const bad of ['//evil.example/x', '/\t/evil.example/x', '/\n/evil.example', '/\\evil.example', '/\\/evil.example', '/.//evil.example', '/a/..//evil.example', '/%2e%2e//evil.example', 'https://evil.example/', 'evil.example', ' /connectors', '/x\u0085y', '', undefined, `/${'a'.repeat(3000)}`]) {
      const got = safeNext(bad);
      assert.equal(got, '/connectors', JSON.stringify(bad));
    }
  });
});
