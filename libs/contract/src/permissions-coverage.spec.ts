import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { PERMISSIONS } from '@postbote/auth';
import { AccessServiceService, AuthServiceService, ConnectorServiceService, CredentialServiceService, FetcherServiceService, StorageServiceService, TriggerServiceService } from '@postbote/proto';

const DEFINITIONS = [AccessServiceService, AuthServiceService, ConnectorServiceService, CredentialServiceService, FetcherServiceService, StorageServiceService, TriggerServiceService];

describe('the permission table covers the contract', () => {
  it('lists every method of every service, and nothing that does not exist', () => {
    const paths = DEFINITIONS.flatMap((d) => Object.values(d).map((m) => m.path));
    const listed = Object.entries(PERMISSIONS)
      .filter(([service]) => service.startsWith('postbote.'))
      .flatMap(([service, methods]) => Object.keys(methods).map((method) => `/${service}/${method}`));
    assert.deepEqual([...listed].sort(), [...paths].sort());
    for (const [service, methods] of Object.entries(PERMISSIONS)) for (const [method, grants] of Object.entries(methods)) assert.ok(grants.length > 0, `${service}/${method} is granted to someone`);
  });
});
