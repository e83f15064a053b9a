// Adding a connector setting touches three places: its proto field, one catalogue entry
// (libs/connector-model/src/fields.ts) and the code that uses it. This walk does exactly
// that in a scratch copy of the repository — a made-up `max_attachments` setting — and
// then checks that everything derived from the catalogue shows it: the whole repository
// still type-checks, the CLI has its flag with bounds and default, the regenerated README
// table has its row, the validator applies its range and default, the console form has its
// field, and it survives the API mapping and the stored document.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '@postbote/testing';

const ROOT = join(__dirname, '..', '..', '..');

/** The repository's files as git sees them (tracked and new, not ignored), copied; node_modules linked. */
function scratchCopy(): string {
  const dir = tempDir('pb-new-setting-');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT }).toString().split('\0').filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      cpSync(join(ROOT, f), join(dir, f));
    } catch (err) {
      // A file deleted in the working tree but still tracked.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function edit(path: string, change: (text: string) => string): void {
  const before = readFileSync(path, 'utf8');
  const after = change(before);
  assert.notEqual(after, before, `the walk changed ${path}`);
  writeFileSync(path, after);
}

/** Adds a field to a proto message, numbered after the message's highest. */
function addProtoField(text: string, message: string, field: string): string {
  const start = text.indexOf(`message ${message} {`);
  const end = text.indexOf('\n}', start);
  const body = text.slice(start, end);
  const next = Math.max(...[...body.matchAll(/= (\d+);/g)].map((m) => Number(m[1]))) + 1;
  return `${text.slice(0, end)}\n  ${field} = ${next};${text.slice(end)}`;
}

const ENTRY = `  maxAttachments: {
    api: 'max_attachments',
    label: { en: 'Max attachments', de: 'Höchstzahl Anhänge' },
    help: { en: 'attachments kept per email', de: 'Anhänge, die je E-Mail behalten werden' },
    kind: 'int',
    min: 1,
    max: 500,
    default: 10,
    flag: 'max-attachments',
    group: 'processing',
  },
`;

// Run inside the copy, after the edits: what a person and the other edges see of the new setting.
const CHECK = `
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { connectorFromProto, connectorToProto, specFromProto, specToProto } from '@postbote/contract';
import { resolveCreate, settingsFromDocument, settingsToDocument } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import { ValidationError } from '@postbote/errors';
import { connectorCommand } from './apps/cli/src/connector-commands';
import { connectorFields } from './libs/console/src/connector-form';
import { viewerFor } from './libs/console/src/i18n';

const base = { name: 'n', protocol: 'POP3', host: 'mail.example.test', username: 'u', workflowId: 'w', password: new Secret('p') };

// CLI: the flag, with its help, bounds and default.
const cli = new Command().addCommand(connectorCommand({} as never));
const create = cli.commands[0]!.commands.find((c) => c.name() === 'create')!;
const help = create.helpInformation();
assert.match(help, /--max-attachments <n>\\s+Max attachments: attachments kept per email\\s+\\(1–500, default 10\\)/, help);

// README: the generated row.
assert.match(readFileSync('README.md', 'utf8'), /^\\| Max attachments \\| \`--max-attachments\` \\| 10 \\| 1–500 \\|$/m);

// Validator: the default, and the range named at its field.
assert.equal(resolveCreate(base).settings.maxAttachments, 10);
assert.equal(resolveCreate({ ...base, maxAttachments: 3 }).settings.maxAttachments, 3);
assert.throws(() => resolveCreate({ ...base, maxAttachments: 501 }), (e: unknown) => e instanceof ValidationError && e.violations.some((v) => v.field === 'spec.max_attachments' && v.rule === 'range'));

// Console: the field in the form, labelled, with its hint.
const state = { protocol: 'POP3' as const, current: null, body: null, errors: new Map() };
const form = String(connectorFields(viewerFor('en'), state, null));
assert.match(form, /<label for="f-max_attachments">Max attachments<\\/label>/);
assert.match(form, /name="max_attachments" value="10"/);
assert.match(String(connectorFields(viewerFor('de'), state, null)), /<label for="f-max_attachments">Höchstzahl Anhänge<\\/label>/);

// API and stored document: it travels and is kept; a document from before it gets the default.
const settings = resolveCreate({ ...base, maxAttachments: 7 }).settings;
assert.equal(specFromProto(specToProto({ maxAttachments: 7 })).maxAttachments, 7);
const record = { ...settings, id: '00000000-0000-4000-8000-000000000001', workspace: 'default', secretsSet: [], revision: 1, createdAt: new Date(0), updatedAt: new Date(0) };
assert.equal(connectorFromProto(connectorToProto(record)).maxAttachments, 7);
assert.equal(settingsFromDocument(settingsToDocument(settings)).maxAttachments, 7);
const old = JSON.parse(settingsToDocument(settings));
delete old.maxAttachments;
assert.equal(settingsFromDocument(JSON.stringify(old)).maxAttachments, 10);
console.log('new setting: every edge shows it');
`;

describe('adding a connector setting (the walk in README "Adding a connector setting")', () => {
  it('takes the proto, one catalogue entry and one consumer; the CLI, README table, validator, console form and mappings follow', { timeout: 300_000 }, () => {
    const dir = scratchCopy();
    // Without the test runner's marker, or the nested run below would skip its files.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));
    const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

    // 1. The proto: the field on the connector and on the spec.
    edit(join(dir, 'proto/postbote/v1/connector.proto'), (t) => addProtoField(addProtoField(t, 'Connector', 'uint32 max_attachments'), 'ConnectorSpec', 'optional uint32 max_attachments'));
    // 2. One catalogue entry.
    edit(join(dir, 'libs/connector-model/src/fields.ts'), (t) => t.replace('} as const satisfies { readonly [key: string]: FieldInfo };', `${ENTRY}} as const satisfies { readonly [key: string]: FieldInfo };`));
    // 3. One consumer: the fetcher's poll reads it as the number it is.
    edit(join(dir, 'libs/fetcher/src/connector-poll.ts'), (t) => `${t}\nexport const maxAttachmentsOf = (s: import('@postbote/connector-model').ConnectorSettings): number => s.maxAttachments;\n`);

    run(process.execPath, ['tools/gen-proto.mjs']);
    run(process.execPath, [join(dir, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']);
    run(process.execPath, [join(dir, 'node_modules/tsx/dist/cli.mjs'), 'tools/doc-tables.ts', '--write']);
    writeFileSync(join(dir, 'check-new-setting.ts'), CHECK);
    assert.match(run(process.execPath, [join(dir, 'node_modules/tsx/dist/cli.mjs'), 'check-new-setting.ts']), /every edge shows it/);
    // The catalogue's own tests (the proto carries exactly the catalogue's fields; README tables equal the code).
    const unit = run(process.execPath, ['tools/run-tests.mjs', '--tier', 'unit', 'libs/connector-model', 'libs/contract', 'libs/console/src/connector-form.spec.ts']);
    const [, passed, failed] = /(\d+) passed, (\d+) failed/.exec(unit) ?? [];
    assert.ok(Number(passed) > 20 && failed === '0', unit);
  });
});
