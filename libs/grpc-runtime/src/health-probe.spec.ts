import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Client, Server, ServerCredentials, credentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { healthOf } from './health-probe';

describe('healthOf (grpc.health.v1 over an existing channel, hand-encoded)', () => {
  const server = new Server();
  const health = new HealthImplementation({ '': 'SERVING', 'postbote.v1.StorageService': 'NOT_SERVING' });
  let client: Client;

  before(async () => {
    health.addToServer(server);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  after(() => {
    client.close();
    server.forceShutdown();
  });

  it('reads SERVING and NOT_SERVING as the peer reports them, and follows a change', async () => {
    assert.equal(await healthOf(client, ''), 'SERVING');
    assert.equal(await healthOf(client, 'postbote.v1.StorageService'), 'NOT_SERVING');
    health.setStatus('postbote.v1.StorageService', 'SERVING');
    assert.equal(await healthOf(client, 'postbote.v1.StorageService'), 'SERVING');
  });

  it('rejects, naming the service, for a service the peer does not have or a peer that is not there', async () => {
    await assert.rejects(healthOf(client, 'postbote.v1.Nothing'), /health check of postbote\.v1\.Nothing/);
    const nobody = new Client('127.0.0.1:1', credentials.createInsecure());
    try {
      await assert.rejects(healthOf(nobody, 'postbote.v1.CredentialService', 1_000), /health check of postbote\.v1\.CredentialService/);
    } finally {
      nobody.close();
    }
  });
});
