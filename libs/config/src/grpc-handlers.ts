import { timingSafeEqual } from 'node:crypto';
import type { Secret } from '@postbote/crypto';
import { PermissionDeniedError, ValidationError } from '@postbote/errors';
import { unary, type CallContext } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import {
  type ConnectorSpec,
  ConnectorServiceService,
  CredentialServiceService,
  type ConnectorServiceServer,
  type CredentialServiceServer,
} from '@postbote/proto';
import type { ServiceRegistration } from '@postbote/grpc-runtime';
import { INTERNAL_TOKEN_HEADER } from '@postbote/service-clients';
import type { ConnectorRegistry } from './connector-registry';
import { connectorToProto, specFromProto } from '@postbote/connector-contract';
import { listFolders, testConnection, type TestTarget } from './connection-test';


export function connectorService(registry: ConnectorRegistry, logger: Logger): ServiceRegistration {
  const implementation: ConnectorServiceServer = {
    createConnector: unary(logger, 'CreateConnector', async (req) => {
      const { connector, warnings } = await registry.create(specFromProto(req.spec));
      return { connector: connectorToProto(connector), warnings: [...warnings] };
    }),
    getConnector: unary(logger, 'GetConnector', async (req) => connectorToProto(await registry.get(req.ref))),
    listConnectors: unary(logger, 'ListConnectors', async (req) => {
      const page = await registry.list(req.pageSize, req.pageToken);
      return { connectors: page.items.map(connectorToProto), nextPageToken: page.nextPageToken };
    }),
    updateConnector: unary(logger, 'UpdateConnector', async (req) => {
      const { connector, warnings } = await registry.update(req.ref, specFromProto(req.spec), req.expectedRevision);
      return { connector: connectorToProto(connector), warnings: [...warnings] };
    }),
    deleteConnector: unary(logger, 'DeleteConnector', async (req) => ({ id: await registry.delete(req.ref, req.purgeEmailsNow) })),
    setConnectorEnabled: unary(logger, 'SetConnectorEnabled', async (req) => connectorToProto(await registry.setEnabled(req.ref, req.enabled))),
    testConnection: unary(logger, 'TestConnection', async (req) => {
      const steps = await testConnection(registry, targetOf(req.target, req.overrides));
      return { ok: steps.every((s) => s.ok), steps };
    }),
    listFolders: unary(logger, 'ListFolders', async (req) => ({ folders: await listFolders(registry, targetOf(req.target, undefined)) })),
    rotateKeys: unary(logger, 'RotateKeys', async () => registry.rotateKeys()),
  };
  return { name: 'postbote.v1.ConnectorService', definition: ConnectorServiceService, implementation };
}

/**
 * Internal credential lookup for fetchers. Refused unless the caller presents the
 * internal token; with no token configured the service is closed entirely.
 */
export function credentialService(registry: ConnectorRegistry, logger: Logger, internalToken: Secret | undefined): ServiceRegistration {
  const implementation: CredentialServiceServer = {
    getCredentials: unary(logger, 'GetCredentials', async (req, ctx) => {
      authorize(ctx, internalToken);
      if (!req.connectorId) throw ValidationError.single('connector_id', 'required', 'must not be empty');
      const c = await registry.credentials(req.connectorId);
      return { connectorId: req.connectorId, username: c.username, password: c.password.reveal(), revision: c.revision };
    }),
  };
  return { name: 'postbote.v1.CredentialService', definition: CredentialServiceService, implementation };
}

function authorize(ctx: CallContext, token: Secret | undefined): void {
  if (!token) throw new PermissionDeniedError('credential service is disabled: POSTBOTE_INTERNAL_TOKEN is not configured');
  const given = Buffer.from(String(ctx.metadata.get(INTERNAL_TOKEN_HEADER)[0] ?? ''), 'utf8');
  const expected = Buffer.from(token.reveal(), 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new PermissionDeniedError('missing or wrong internal token');
  }
}

function targetOf(target: { $case: 'ref'; value: string } | { $case: 'spec'; value: ConnectorSpec } | undefined, overrides: ConnectorSpec | undefined): TestTarget {
  if (target?.$case === 'ref') return { ref: target.value, ...(overrides ? { overrides: specFromProto(overrides) } : {}) };
  if (target?.$case === 'spec') return { spec: specFromProto(target.value) };
  throw ValidationError.single('target', 'required', 'give a connector ref or unsaved settings (spec)');
}
