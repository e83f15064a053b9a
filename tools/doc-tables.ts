// Renders the generated tables of the docs from their one home in the code:
//   README.md         the configuration table, from libs/env/src/catalogue.ts
//   docs/security.md  the permission table, from libs/auth/src/permissions.ts
//   README.md         the console's field glossary, from libs/connector-model/src/fields.ts
//   README.md         the connector settings (flag, default, rules), from the same catalogue
// `npx tsx tools/doc-tables.ts --write` updates the files; without --write it prints what
// differs. Tests keep the files equal to the code.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderPermissionTable } from '@postbote/auth';
import { renderConnectorTable, renderFieldGlossary } from '@postbote/connector-model';
import { renderVariableTable } from '@postbote/env';

const ROOT = join(__dirname, '..');
const TABLES: Array<{ file: string; marker: string; render: () => string }> = [
  { file: 'README.md', marker: 'variables', render: renderVariableTable },
  { file: 'docs/security.md', marker: 'permissions', render: renderPermissionTable },
  { file: 'README.md', marker: 'glossary', render: renderFieldGlossary },
  { file: 'README.md', marker: 'connectors', render: renderConnectorTable },
];

for (const { file, marker, render } of TABLES) {
  const path = join(ROOT, file);
  const text = readFileSync(path, 'utf8');
  const start = new RegExp(`<!-- ${marker}:start[^\\n]*-->\\n`).exec(text);
  const end = text.indexOf(`<!-- ${marker}:end -->`);
  if (!start || end < start.index) throw new Error(`${file} has no ${marker} markers`);
  const next = `${text.slice(0, start.index + start[0].length)}${render()}\n${text.slice(end)}`;
  if (next === text) continue;
  if (process.argv.includes('--write')) writeFileSync(path, next);
  else process.stdout.write(`${file}: the ${marker} table differs from the code\n`);
}
