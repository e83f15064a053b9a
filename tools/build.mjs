#!/usr/bin/env node
// Bundles each app's src/main.ts into dist/apps/<app>/main.js with esbuild. Workspace
// libs are inlined (resolved through tsconfig paths); npm packages stay external and
// load from node_modules, so native modules (better-sqlite3) and packages that read
// their own files at runtime (grpc-health-check's .proto) work unchanged.
// Type checking is separate (`npm run typecheck`): esbuild only strips types.
import { build } from 'esbuild';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['cli', 'config-service', 'storage-service', 'trigger-service', 'fetcher-service', 'console-service'];
const apps = process.argv.length > 2 ? process.argv.slice(2) : ALL;
// Worker-thread scripts, bundled beside main.js of the apps that start them (the code
// finds them as <name>.js next to itself; see spawnWorker in libs/threads).
// The CLI's all-in-one is a bundle of its own too, loaded only by `postbote start`.
const WORKERS = {
  'parse-worker': 'libs/storage/src/parse-worker.ts',
  'sqlite-writer': 'libs/db/src/sqlite-writer.ts',
  'all-in-one': 'apps/cli/src/all-in-one.ts',
};
const WORKERS_OF = { cli: ['parse-worker', 'sqlite-writer', 'all-in-one'], 'storage-service': ['parse-worker', 'sqlite-writer'], 'trigger-service': ['sqlite-writer'] };

for (const app of apps) {
  const entry = join(root, 'apps', app, 'src', 'main.ts');
  if (!existsSync(entry)) throw new Error(`no app ${app} (${entry})`);
  const outputs = [[entry, 'main.js'], ...(WORKERS_OF[app] ?? []).map((w) => [join(root, WORKERS[w]), `${w}.js`])];
  for (const [input, output] of outputs) await bundle(input, join(root, 'dist', 'apps', app, output));
}
console.log(`built ${apps.join(', ')} into dist/apps`);

/**
 * Each file is written beside its place and renamed into it: test processes build on their own
 * (ensureBuilt) while others start services from dist/, and a bundle read half-written fails
 * with a SyntaxError (seen in CI). A rename replaces the whole file at once.
 */
async function bundle(input, outfile) {
  const result = await build({
    entryPoints: [input],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: true,
    tsconfig: join(root, 'tsconfig.base.json'),
    logLevel: 'warning',
    write: false,
  });
  for (const file of result.outputFiles) {
    mkdirSync(dirname(file.path), { recursive: true });
    const scratch = `${file.path}.${process.pid}.tmp`;
    writeFileSync(scratch, file.contents);
    renameSync(scratch, file.path);
  }
}
