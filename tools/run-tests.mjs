#!/usr/bin/env node
// Runs the test files under the given folders (default: apps and libs) in one
// node:test run, through tsx so TypeScript and the workspace path aliases load
// as they do in the bundle. Two tiers, told apart by suffix:
//   *.spec.ts  unit and scripted-server tests (no outside services)
//   *.int.ts   integration tests against real servers (MariaDB, Kafka, Dovecot…)
// `--tier unit|int|all` (default all). Ends with "N passed, N failed[, N skipped]".
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const args = process.argv.slice(2);
let tier = 'all';
const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--tier') tier = args[++i];
  else roots.push(args[i]);
}
if (roots.length === 0) roots.push('apps', 'libs');
const suffixes = { unit: ['.spec.ts'], int: ['.int.ts'], all: ['.spec.ts', '.int.ts'] }[tier];
if (!suffixes) throw new Error(`unknown tier ${tier}`);

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === 'gen') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (suffixes.some((s) => name.endsWith(s))) out.push(p);
  }
  return out;
}

const files = roots.flatMap((r) => (statSync(r).isDirectory() ? walk(r, []) : [r])).sort();
if (files.length === 0) {
  console.log('no test files found');
  process.exit(1);
}
console.log(`running ${files.length} test files (${tier})`);

const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=600000',
    '--test-reporter=spec',
    ...files.map((f) => relative(process.cwd(), f)),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, POSTBOTE_TEST: '1' } },
);

let tail = '';
child.stdout.on('data', (buf) => {
  process.stdout.write(buf);
  tail = (tail + buf.toString()).slice(-200_000);
});
child.on('close', (code) => {
  const count = (label) => Number((new RegExp(`[ℹ#] ${label} (\\d+)`).exec(tail) ?? [])[1] ?? 0);
  const passed = count('pass');
  const failed = count('fail') + count('cancelled');
  const skipped = count('skipped') + count('todo');
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code === 0 && passed > 0 ? 0 : code || 1);
});
