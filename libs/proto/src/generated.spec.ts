import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ConnectorSpec, EmailReceived, Protocol } from './index';

const root = join(__dirname, '..', '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('generated contracts', () => {
  it('match proto/ exactly (regenerate with `npx nx run proto:generate`)', () => {
    const scratch = join(mkdtempSync(join(tmpdir(), 'pb-gen-')), 'libs', 'proto', 'src', 'gen');
    execFileSync(process.execPath, [join(root, 'tools/gen-proto.mjs'), scratch], { cwd: root, stdio: 'pipe' });
    const committed = join(root, 'libs/proto/src/gen');
    const a = files(committed).map((f) => relative(committed, f)).sort();
    const b = files(scratch).map((f) => relative(scratch, f)).sort();
    assert.deepEqual(a, b);
    for (const f of a) assert.equal(readFileSync(join(committed, f), 'utf8'), readFileSync(join(scratch, f), 'utf8'), `${f} is stale or edited by hand`);
  });

  it('keep optional presence and oneofs on the wire', () => {
    const spec = ConnectorSpec.decode(ConnectorSpec.encode({ protocol: Protocol.POP3, batchSize: 0 }).finish());
    assert.equal(spec.batchSize, 0, 'an explicit 0 stays distinguishable from unset');
    assert.equal(spec.port, undefined);
    const ev = EmailReceived.decode(
      EmailReceived.encode(EmailReceived.fromPartial({ eventId: 'e', source: { source: { $case: 'pop3', value: { uidl: 'u1' } } } })).finish(),
    );
    assert.deepEqual(ev.source?.source, { $case: 'pop3', value: { uidl: 'u1' } });
  });
});
