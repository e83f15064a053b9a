import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderFieldGlossary } from './fields';

describe('field catalogue', () => {
  it('is the glossary the README shows (regenerate with `npx tsx tools/doc-tables.ts --write`)', () => {
    const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
    assert.equal(/<!-- glossary:start[^\n]*-->\n([\s\S]*?)\n<!-- glossary:end -->/.exec(readme)?.[1], renderFieldGlossary());
  });
});
