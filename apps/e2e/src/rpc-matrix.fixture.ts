// Every method of every service, called with a request that names an object (a connector,
// an email, a token, a person, a workspace) — for the workspace isolation matrix in
// security.int.ts. What comes back is reduced to what a caller can tell apart: the status
// code and message (ids masked) or, for an answer, its bytes.
import { Client, Metadata, status, type ServiceDefinition, type ServiceError } from '@grpc/grpc-js';
import {
  AccessServiceService,
  AuthServiceService,
  ConnectorServiceService,
  ConsoleUserServiceService,
  CredentialServiceService,
  FetcherServiceService,
  LogLevel,
  Role,
  StorageServiceService,
  TriggerServiceService,
  WorkspaceServiceService,
} from '@postbote/proto';

/** The objects of one workspace a request may name (or ids that exist nowhere). */
export interface Objects {
  readonly workspace: string;
  readonly connectorId: string;
  readonly emailId: string;
  readonly tokenId: string;
  readonly person: string;
}

export const SERVICES_BY_ADDRESS = {
  CONFIG_SERVICE_ADDR: [ConnectorServiceService, CredentialServiceService, AccessServiceService, AuthServiceService, ConsoleUserServiceService, WorkspaceServiceService],
  STORAGE_SERVICE_ADDR: [StorageServiceService],
  TRIGGER_SERVICE_ADDR: [TriggerServiceService],
  FETCHER_SERVICE_ADDR: [FetcherServiceService],
} as const;

let n = 0;
const unique = () => `m${Date.now().toString(36)}${(n++).toString(36)}`;

/**
 * A request per method naming `o`'s objects. Destructive methods are marked: their call on
 * an object of the caller's own workspace removes it, and the test makes a new one. Methods
 * of the installation alone name throwaway workspaces (their isolation is the permission
 * table's: nobody else passes the gate).
 */
export const REQUESTS: Record<string, { readonly build: (o: Objects) => unknown; readonly destroys?: keyof Objects }> = {
  '/postbote.v1.ConnectorService/CreateConnector': { build: () => ({ spec: { name: unique(), protocol: 2, host: 'imap.example.test', username: 'u', password: 'matrix-password-1', workflowId: 'wf', enabled: false } }) },
  '/postbote.v1.ConnectorService/GetConnector': { build: (o) => ({ ref: o.connectorId }) },
  '/postbote.v1.ConnectorService/ListConnectors': { build: () => ({ pageSize: 0, pageToken: '' }) },
  // A stale revision: ABORTED where the connector is found, nothing changes.
  '/postbote.v1.ConnectorService/UpdateConnector': { build: (o) => ({ ref: o.connectorId, spec: { batchSize: 7 }, expectedRevision: 99_999 }) },
  '/postbote.v1.ConnectorService/DeleteConnector': { build: (o) => ({ ref: o.connectorId, purgeEmailsNow: false }), destroys: 'connectorId' },
  '/postbote.v1.ConnectorService/SetConnectorEnabled': { build: (o) => ({ ref: o.connectorId, enabled: true }) },
  '/postbote.v1.ConnectorService/TestConnection': { build: (o) => ({ target: { $case: 'ref', value: o.connectorId } }) },
  '/postbote.v1.ConnectorService/ListFolders': { build: (o) => ({ target: { $case: 'ref', value: o.connectorId } }) },
  '/postbote.v1.ConnectorService/RotateKeys': { build: () => ({}) },
  '/postbote.v1.CredentialService/GetCredentials': { build: (o) => ({ connectorId: o.connectorId, rejectedAccessToken: '' }) },
  '/postbote.v1.AccessService/CreateToken': { build: () => ({ name: unique(), role: Role.VIEWER, validDays: 1 }) },
  '/postbote.v1.AccessService/ListTokens': { build: () => ({ includeRevoked: true }) },
  '/postbote.v1.AccessService/RevokeToken': { build: (o) => ({ id: o.tokenId }), destroys: 'tokenId' },
  '/postbote.v1.AccessService/ListAuditEntries': { build: (o) => ({ pageSize: 20, pageToken: '', targetId: o.connectorId }) },
  '/postbote.v1.AccessService/WhoAmI': { build: () => ({}) },
  '/postbote.v1.AuthService/Authenticate': { build: () => ({ token: 'pbt_000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' }) },
  '/postbote.v1.ConsoleUserService/AddConsoleUser': { build: () => ({ name: unique(), role: Role.VIEWER, password: 'matrix-person-password', replace: false }) },
  '/postbote.v1.ConsoleUserService/ListConsoleUsers': { build: () => ({}) },
  '/postbote.v1.ConsoleUserService/RemoveConsoleUser': { build: (o) => ({ name: o.person }), destroys: 'person' },
  '/postbote.v1.ConsoleUserService/SignIn': { build: (o) => ({ name: o.person, password: 'wrong-password-000', clientAddress: '127.0.0.1' }) },
  '/postbote.v1.ConsoleUserService/SignOut': { build: () => ({ sessionToken: '' }) },
  '/postbote.v1.WorkspaceService/ListWorkspaces': { build: () => ({}) },
  '/postbote.v1.WorkspaceService/GetWorkspace': { build: () => ({}) },
  '/postbote.v1.WorkspaceService/CreateWorkspace': { build: () => ({ id: unique(), displayName: 'matrix', quotas: {} }) },
  '/postbote.v1.WorkspaceService/UpdateWorkspace': { build: () => ({ id: 'matrix-scratch', displayName: 'scratch' }) },
  '/postbote.v1.WorkspaceService/SuspendWorkspace': { build: () => ({ id: 'matrix-scratch', reason: 'matrix' }) },
  '/postbote.v1.WorkspaceService/ResumeWorkspace': { build: () => ({ id: 'matrix-scratch' }) },
  '/postbote.v1.WorkspaceService/DeleteWorkspace': { build: () => ({ id: 'matrix-absent' }) },
  '/postbote.v1.StorageService/FindStoredSources': { build: (o) => ({ connectorId: o.connectorId, pop3Uidls: ['x'] }) },
  '/postbote.v1.StorageService/StoreEmails': { build: () => ({}) },
  '/postbote.v1.StorageService/GetEmail': { build: (o) => ({ emailId: o.emailId }) },
  '/postbote.v1.StorageService/ListEmails': { build: (o) => ({ connectorId: o.connectorId, pageSize: 10, pageToken: '' }) },
  '/postbote.v1.StorageService/CountEmails': { build: (o) => ({ connectorId: o.connectorId, since: [new Date(0)] }) },
  '/postbote.v1.StorageService/DownloadRawEmail': { build: (o) => ({ emailId: o.emailId }) },
  '/postbote.v1.StorageService/AppendConnectorLog': { build: () => ({ entries: [] }) },
  '/postbote.v1.StorageService/ListConnectorLog': { build: (o) => ({ connectorId: o.connectorId, minLevel: LogLevel.DEBUG, pageSize: 10, pageToken: '' }) },
  '/postbote.v1.StorageService/GetWorkspaceUsage': { build: () => ({}) },
  '/postbote.v1.StorageService/MigrateBlobs': { build: () => ({ maxEmails: 0, afterEmailId: '' }) },
  '/postbote.v1.TriggerService/TailEvents': { build: (o) => ({ connectorId: o.connectorId }) },
  '/postbote.v1.TriggerService/ListParkedEvents': { build: () => ({ pageSize: 10, pageToken: '' }) },
  '/postbote.v1.TriggerService/RetryParkedEvent': { build: (o) => ({ eventId: o.emailId }) },
  '/postbote.v1.FetcherService/ListFetchers': { build: () => ({}) },
};

export interface Method {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
  readonly serialize: (req: unknown) => Buffer;
}

/** The methods served at one address. */
export function methodsOf(definitions: readonly ServiceDefinition[]): Method[] {
  return definitions.flatMap((d) =>
    Object.values(d).map((m) => ({ path: m.path, requestStream: m.requestStream, responseStream: m.responseStream, serialize: m.requestSerialize as (req: unknown) => Buffer })),
  );
}

/** What came back: `CODE: message` (ids masked), or `OK` with the answer's bytes. */
export type Reply = string;

const MASK = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b[0-9a-f]{12}\b|\bm[0-9a-z]{8,}\b/g;

export function codeOf(reply: Reply): string {
  return reply.startsWith('OK') ? 'OK' : (reply.split(':')[0] ?? reply);
}

/** A reply with the names the request itself gave replaced: what is left is what the server chose to say. */
export function asked(reply: Reply, o: Objects): Reply {
  return [o.person, o.connectorId, o.emailId, o.tokenId].reduce((r, v) => r.split(v).join('<asked>'), reply);
}

/** One call; a server stream is read for `streamMs` (an open tail answers nothing until then). */
export function invoke(client: Client, m: Method, request: unknown, headers: Record<string, string>, streamMs = 600): Promise<Reply> {
  const md = new Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k, v);
  const same = (b: Buffer) => b;
  return new Promise((resolve) => {
    const failed = (err: ServiceError) => resolve(`${status[err.code]}: ${(err.details ?? '').replace(MASK, 'ID')}`);
    if (m.requestStream) {
      const c = client.makeBidiStreamRequest(m.path, same, same, md, { deadline: Date.now() + 5_000 });
      c.on('data', () => undefined);
      c.on('error', failed);
      c.on('status', (s) => s.code === status.OK && resolve('OK'));
      c.end();
    } else if (m.responseStream) {
      const parts: Buffer[] = [];
      const c = client.makeServerStreamRequest(m.path, same, same, m.serialize(request), md, { deadline: Date.now() + streamMs });
      c.on('data', (b: Buffer) => parts.push(b));
      c.on('error', (e: ServiceError) => (e.code === status.DEADLINE_EXCEEDED ? resolve(`OK ${Buffer.concat(parts).length} bytes`) : failed(e)));
      c.on('status', (s) => s.code === status.OK && resolve(`OK ${Buffer.concat(parts).toString('base64')}`));
    } else {
      client.makeUnaryRequest(m.path, same, same, m.serialize(request), md, { deadline: Date.now() + 15_000 }, (err, res) => (err ? failed(err) : resolve(`OK ${res?.toString('base64') ?? ''}`)));
    }
  });
}
