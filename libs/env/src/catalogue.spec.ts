import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { EnvReader } from './env-reader';
import { VARIABLES, readVar, renderVariableTable } from './catalogue';

const ROOT = join(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (n === 'node_modules' || n === 'gen' || n === 'testdata') return [];
    return statSync(p).isDirectory() ? sources(p) : /\.ts$/.test(n) && !/\.(spec|int)\.ts$/.test(n) ? [p] : [];
  });
}

describe('the configuration catalogue', () => {
  it('is what the README shows (regenerate with `npx tsx tools/doc-tables.ts --write`)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = /<!-- variables:start[^\n]*-->\n([\s\S]*?)\n<!-- variables:end -->/.exec(readme)?.[1];
    assert.equal(table, renderVariableTable());
  });

  it('is the only way services read the environment (no variable read by name elsewhere)', () => {
    const offenders: string[] = [];
    for (const root of ['libs', 'apps']) {
      for (const file of sources(join(ROOT, root))) {
        // The catalogue itself, and test helpers reading their own POSTBOTE_TEST_* switches.
        if (file.includes(join('libs', 'env', 'src')) || file.includes(join('libs', 'testing', 'src'))) continue;
        const text = readFileSync(file, 'utf8');
        if (/\benv\.(string|int|secret|address|oneOf|list|bool|required)\(|process\.env\[['"][A-Z_]+['"]\]/.test(text)) offenders.push(relative(ROOT, file));
      }
    }
    assert.deepEqual(offenders, []);
  });

  it('reads with the catalogue\'s defaults and bounds, naming the variable on a bad value', () => {
    assert.equal(readVar(new EnvReader({}), 'FETCHER_MAX_AUTH_FAILURES'), VARIABLES.FETCHER_MAX_AUTH_FAILURES.default);
    assert.equal(readVar(new EnvReader({ TRIGGER_EVENT_ENCODING: 'json' }), 'TRIGGER_EVENT_ENCODING'), 'json');
    assert.throws(() => readVar(new EnvReader({ FETCHER_MAX_AUTH_FAILURES: '0' }), 'FETCHER_MAX_AUTH_FAILURES'), /FETCHER_MAX_AUTH_FAILURES: must be between 1 and 100/);
    assert.equal(readVar(new EnvReader({}), 'STORAGE_PARSE_WORKERS'), undefined, 'computed at start when unset');
  });
});
