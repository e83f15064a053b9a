import { ValidationError, requireUuid } from '@postbote/errors';
import { unary, type ServiceRegistration } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import {
  type ConnectorSpec,
  ConnectorServiceService,
  CredentialServiceService,
  type ConnectorServiceServer,
  type CredentialServiceServer,
} from '@postbote/proto';
import { connectorToProto, specFromProto } from '@postbote/contract';
import { actorOf } from './access-grpc';
import type { ConnectionTests, TestTarget } from './connection-test';
import type { ConnectorRegistry } from './connector-registry';
import type { OAuthTokens } from './oauth-tokens';

export function connectorService(registry: ConnectorRegistry, tests: ConnectionTests, logger: Logger): ServiceRegistration {
  const implementation: ConnectorServiceServer = {
    createConnector: unary(logger, 'CreateConnector', async (req, ctx) => {
      const { connector, warnings } = await registry.create(ctx.scope, specFromProto(req.spec), actorOf(ctx));
      return { connector: connectorToProto(connector), warnings: [...warnings] };
    }),
    getConnector: unary(logger, 'GetConnector', async (req, ctx) => connectorToProto(await registry.get(ctx.scope, req.ref))),
    listConnectors: unary(logger, 'ListConnectors', async (req, ctx) => {
      const page = await registry.list(ctx.scope, req.pageSize, req.pageToken);
      return { connectors: page.items.map(connectorToProto), nextPageToken: page.nextPageToken };
    }),
    updateConnector: unary(logger, 'UpdateConnector', async (req, ctx) => {
      const { connector, warnings } = await registry.update(ctx.scope, req.ref, specFromProto(req.spec), actorOf(ctx), req.expectedRevision);
      return { connector: connectorToProto(connector), warnings: [...warnings] };
    }),
    deleteConnector: unary(logger, 'DeleteConnector', async (req, ctx) => ({ id: await registry.delete(ctx.scope, req.ref, req.purgeEmailsNow, actorOf(ctx)) })),
    setConnectorEnabled: unary(logger, 'SetConnectorEnabled', async (req, ctx) => connectorToProto(await registry.setEnabled(ctx.scope, req.ref, req.enabled, actorOf(ctx)))),
    testConnection: unary(logger, 'TestConnection', async (req, ctx) => {
      const steps = await tests.test(ctx.scope, targetOf(req.target, req.overrides), actorOf(ctx));
      return { ok: steps.every((s) => s.ok), steps };
    }),
    listFolders: unary(logger, 'ListFolders', async (req, ctx) => ({ folders: await tests.folders(ctx.scope, targetOf(req.target, undefined), actorOf(ctx)) })),
    rotateKeys: unary(logger, 'RotateKeys', async (_req, ctx) => registry.rotateKeys(actorOf(ctx))),
  };
  return { name: 'postbote.v1.ConnectorService', definition: ConnectorServiceService, implementation };
}

/** Credential lookup for the fetcher's actors; the gate admits only the fetcher's identity. */
export function credentialService(registry: ConnectorRegistry, oauth: OAuthTokens, logger: Logger): ServiceRegistration {
  const implementation: CredentialServiceServer = {
    getCredentials: unary(logger, 'GetCredentials', async (req, ctx) => {
      const { connector: c, secrets } = await registry.credentials(ctx.scope, requireUuid('connector_id', req.connectorId));
      const base = { connectorId: req.connectorId, username: c.username, revision: c.revision, password: '', accessToken: '', accessTokenExpiresAt: undefined, proxyPassword: secrets.proxyPassword?.reveal() ?? '' };
      if (c.authType !== 'OAUTH2') return { ...base, password: secrets.password?.reveal() ?? '' };
      const t = await oauth.accessToken(c.id, c, secrets, c.revision, req.rejectedAccessToken || undefined);
      return { ...base, accessToken: t.token.reveal(), accessTokenExpiresAt: t.expiresAt };
    }),
  };
  return { name: 'postbote.v1.CredentialService', definition: CredentialServiceService, implementation };
}

function targetOf(target: { $case: 'ref'; value: string } | { $case: 'spec'; value: ConnectorSpec } | undefined, overrides: ConnectorSpec | undefined): TestTarget {
  if (target?.$case === 'ref') return { ref: target.value, ...(overrides ? { overrides: specFromProto(overrides) } : {}) };
  if (target?.$case === 'spec') return { spec: specFromProto(target.value) };
  throw ValidationError.single('target', 'required', 'give a connector ref or unsaved settings (spec)');
}
