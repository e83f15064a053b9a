#!/usr/bin/env node
// Bundles each app's src/main.ts into dist/apps/<app>/main.js with esbuild. Workspace
// libs are inlined (resolved through tsconfig paths); npm packages stay external and
// load from node_modules, so native modules (better-sqlite3) and packages that read
// their own files at runtime (grpc-health-check's .proto) work unchanged.
// Type checking is separate (`npm run typecheck`): esbuild only strips types.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ALL = ['cli', 'config-service', 'storage-service', 'trigger-service', 'fetcher-service'];
const apps = process.argv.length > 2 ? process.argv.slice(2) : ALL;

for (const app of apps) {
  const entry = join(root, 'apps', app, 'src', 'main.ts');
  if (!existsSync(entry)) throw new Error(`no app ${app} (${entry})`);
  await build({
    entryPoints: [entry],
    outfile: join(root, 'dist', 'apps', app, 'main.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: true,
    tsconfig: join(root, 'tsconfig.base.json'),
    logLevel: 'warning',
  });
}
console.log(`built ${apps.join(', ')} into dist/apps`);
