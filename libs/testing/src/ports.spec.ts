import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimPort, freePort, PORT_CLAIMS } from './ports';

// A child process of the same test tooling, asking for the given port.
function claimInChild(port: number): boolean {
  const code = `require(${JSON.stringify(join(__dirname, 'ports.ts'))}).claimPort(${port}) ? process.exit(0) : process.exit(3)`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', code], { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 3, r.stderr);
  return r.status === 0;
}

test('a port handed out to one test process is not handed out to another while the first lives', async () => {
  const port = await freePort();
  assert.equal(claimPort(port), false, 'not twice to the same process');
  assert.equal(claimInChild(port), false, 'not to another process');
});

test('a claim left by a process that is gone is taken over', async () => {
  const gone = spawnSync(process.execPath, ['-e', '0']).pid;
  assert.ok(gone);
  const port = await freePort();
  writeFileSync(join(PORT_CLAIMS, String(port)), String(gone));
  assert.equal(claimInChild(port), true, 'a dead pid in the claim file holds nothing');
});
