import { createProjectGraphAsync } from '@nx/devkit';
import nx from '@nx/eslint-plugin';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

// The boundary rule reads Nx's cached project graph and silently skips itself without
// one (a fresh clone, eslint run by an editor or by `npm run lint` outside Nx): build it
// first, so the architecture is checked wherever eslint runs.
process.env.NX_DAEMON ??= 'false';
await createProjectGraphAsync({ exitOnError: true });

// Architecture as lint rules. Layers, from the bottom:
//   type:util       errors, env, logging, crypto: depend on nothing of ours but each other
//   type:contracts  generated protobuf/gRPC code: depends on nothing of ours
//   type:model      connector settings and validation: util only
//   type:contract   the connector contract's mappings between the API and the model: the
//                   one place both meet (util, model, contracts)
//   type:protocol   IMAP/POP3 clients: util and model, never service code
//   type:infra      db, bus, grpc-runtime: util, and the generated contracts (the rich
//                   gRPC error trailer is a generated google.rpc message)
//   type:client     typed clients of our gRPC services (util, contracts, infra)
//   type:service    the four services' behaviour: everything below, never another service or app
//   type:app        thin wiring (main.ts): anything but another app
//   type:testing    test helpers: only from test files (see the second block)
//   type:e2e        cross-service tests (apps/e2e): any lib
const depConstraints = [
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'type:model', onlyDependOnLibsWithTags: ['type:util'] },
  { sourceTag: 'type:contract', onlyDependOnLibsWithTags: ['type:util', 'type:model', 'type:contracts'] },
  { sourceTag: 'type:protocol', onlyDependOnLibsWithTags: ['type:util', 'type:model', 'type:protocol', 'type:testing'] },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:util', 'type:contracts', 'type:testing'] },
  { sourceTag: 'type:client', onlyDependOnLibsWithTags: ['type:util', 'type:contracts', 'type:contract', 'type:model', 'type:infra'] },
  {
    sourceTag: 'type:service',
    onlyDependOnLibsWithTags: ['type:util', 'type:contracts', 'type:contract', 'type:model', 'type:protocol', 'type:infra', 'type:client', 'type:testing'],
  },
  // Test helpers drive services the way their clients do.
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:util', 'type:infra', 'type:contracts', 'type:client'] },
  // End-to-end tests across services (apps/e2e): any lib, never an app's source.
  {
    sourceTag: 'type:e2e',
    onlyDependOnLibsWithTags: ['type:util', 'type:contracts', 'type:contract', 'type:model', 'type:protocol', 'type:infra', 'type:client', 'type:service', 'type:testing'],
  },
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: ['type:util', 'type:contracts', 'type:contract', 'type:model', 'type:protocol', 'type:infra', 'type:client', 'type:service', 'type:testing'],
  },
];

export default [
  { ignores: ['dist/**', 'node_modules/**', '.nx/**', 'libs/proto/src/gen/**', 'tmp/**', '.cache/**'] },
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, banTransitiveDependencies: false, allow: [], depConstraints },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // A promise nobody awaits or catches is a failure nobody sees (and, unhandled, a crash).
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
    },
  },
  {
    // Import cycles inside a project (between projects, the boundary rule above reports them).
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
  },
  {
    files: ['**/*.spec.ts', '**/*.int.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // Test helpers must not ship: only tests (and the helpers themselves) import them.
    files: ['**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int.ts', '**/*.fixture.ts', 'libs/testing/**', 'bench/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: '@postbote/testing', message: 'test helpers are for *.spec.ts / *.int.ts only' }] }],
    },
  },
];
