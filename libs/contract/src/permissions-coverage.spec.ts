import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { PERMISSIONS } from '@postbote/auth';
import * as proto from '@postbote/proto';

/** Every generated service definition of ours: a new service is covered without being named here. */
const DEFINITIONS = Object.values(proto as Record<string, unknown>).filter(
  (v): v is Record<string, { path: string }> =>
    typeof v === 'object' && v !== null && Object.values(v).length > 0 && Object.values(v).every((m) => typeof (m as { path?: unknown }).path === 'string' && (m as { path: string }).path.startsWith('/postbote.v1.')),
);

describe('the permission table covers the contract', () => {
  it('lists every method of every service, and nothing that does not exist', () => {
    assert.ok(DEFINITIONS.length >= 8, `found ${DEFINITIONS.length} service definitions`);
    const paths = DEFINITIONS.flatMap((d) => Object.values(d).map((m) => m.path));
    const listed = Object.entries(PERMISSIONS)
      .filter(([service]) => service.startsWith('postbote.'))
      .flatMap(([service, methods]) => Object.keys(methods).map((method) => `/${service}/${method}`));
    assert.deepEqual([...listed].sort(), [...paths].sort());
    for (const [service, methods] of Object.entries(PERMISSIONS)) for (const [method, grants] of Object.entries(methods)) assert.ok(grants.length > 0, `${service}/${method} is granted to someone`);
  });
});
