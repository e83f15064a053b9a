import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { renderConnectorTable, renderFieldGlossary } from './field-docs';
import { FIELDS, SETTING_KEYS, type FieldInfo } from './fields';

describe('field catalogue', () => {
  for (const [marker, render] of [
    ['glossary', renderFieldGlossary],
    ['connectors', renderConnectorTable],
  ] as const) {
    it(`is the ${marker} table the README shows (regenerate with \`npx tsx tools/doc-tables.ts --write\`)`, () => {
      const readme = readFileSync(join(__dirname, '..', '..', '..', 'README.md'), 'utf8');
      assert.equal(new RegExp(`<!-- ${marker}:start[^\\n]*-->\\n([\\s\\S]*?)\\n<!-- ${marker}:end -->`).exec(readme)?.[1], render());
    });
  }

  it('names the text rule of every text setting (label or line), so none escapes the control-character check', () => {
    for (const key of SETTING_KEYS) {
      const f = FIELDS[key] as FieldInfo;
      if (f.kind === 'text') assert.ok(f.text === 'label' || f.text === 'line', `${key} names its text rule`);
      else assert.equal(f.text, undefined, `${key} is not text`);
    }
  });
});
