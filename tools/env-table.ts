// Renders the README's configuration table from the catalogue in libs/env
// (`npx tsx tools/env-table.ts --write` updates README.md; without --write it prints).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderVariableTable } from '@postbote/env';

export const START = '<!-- variables:start (generated from libs/env/src/catalogue.ts by tools/env-table.ts) -->';
export const END = '<!-- variables:end -->';

const readme = join(__dirname, '..', 'README.md');
const text = readFileSync(readme, 'utf8');
const i = text.indexOf(START);
const j = text.indexOf(END);
if (i < 0 || j < i) throw new Error('README.md has no variables markers');
const next = `${text.slice(0, i + START.length)}\n${renderVariableTable()}\n${text.slice(j)}`;
if (process.argv.includes('--write')) writeFileSync(readme, next);
else process.stdout.write(`${renderVariableTable()}\n`);
