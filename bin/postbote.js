#!/usr/bin/env node
// `npx postbote …` from the repository: runs the bundled CLI, building it first if needed.
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'apps', 'cli', 'main.js');
if (!existsSync(main)) execFileSync(process.execPath, [join(__dirname, '..', 'tools', 'build.mjs')], { stdio: 'inherit' });
require(main);
