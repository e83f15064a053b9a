import { INSTALLATION_ADMIN, roleIn, type AnyRole, type Principal, type Role } from './principal';

/**
 * Who may call what: one table for every gRPC method. The web console holds no rights of
 * its own beyond signing people in: it calls with the signed-in person's session token, so
 * its pages are bound by this same table. A grant is a role held in the workspace the call
 * acts in (the gate decides which, see createGate), `installation-admin` (the vendor: acts
 * in every workspace with an admin's rights, and alone manages workspaces and master keys),
 * `fetcher` (the fetcher service's identity: the only caller that may read credentials,
 * store emails and write connector logs), `console` (the console service's identity: signs
 * people in and out) or `service` (any of Postbote's services). A method missing from the
 * table is refused to everyone; a test checks every method of every service is listed.
 */
export type Grant = Role | typeof INSTALLATION_ADMIN | 'fetcher' | 'console' | 'service';

const READ: readonly Grant[] = ['admin', 'operator', 'viewer'];
const CHANGE: readonly Grant[] = ['admin', 'operator'];
const ADMIN: readonly Grant[] = ['admin'];
const INSTALLATION: readonly Grant[] = [INSTALLATION_ADMIN];
const FETCHER: readonly Grant[] = ['fetcher'];
const ANYONE_KNOWN: readonly Grant[] = ['admin', 'operator', 'viewer', 'ingest', 'service'];

export const PERMISSIONS: Readonly<Record<string, Readonly<Record<string, readonly Grant[]>>>> = {
  'postbote.v1.ConnectorService': {
    CreateConnector: CHANGE,
    GetConnector: READ,
    ListConnectors: READ,
    UpdateConnector: CHANGE,
    DeleteConnector: CHANGE,
    SetConnectorEnabled: CHANGE,
    // Logs in to a mail server with a stored password (or tries an unsaved one).
    TestConnection: CHANGE,
    ListFolders: CHANGE,
    // The master keys seal every workspace's secrets: the installation's business.
    RotateKeys: INSTALLATION,
  },
  'postbote.v1.CredentialService': { GetCredentials: FETCHER },
  'postbote.v1.AccessService': {
    CreateToken: ADMIN,
    ListTokens: ADMIN,
    RevokeToken: ADMIN,
    ListAuditEntries: ADMIN,
    WhoAmI: ANYONE_KNOWN,
  },
  'postbote.v1.WorkspaceService': {
    // The workspaces the caller may act in (an installation admin: all of them).
    ListWorkspaces: [...READ, 'ingest'],
    // The workspace the call acts in: settings, quotas, connectors against the quota.
    GetWorkspace: READ,
    CreateWorkspace: INSTALLATION,
    UpdateWorkspace: INSTALLATION,
    SuspendWorkspace: INSTALLATION,
    ResumeWorkspace: INSTALLATION,
    DeleteWorkspace: INSTALLATION,
  },
  'postbote.v1.ConsoleUserService': {
    AddConsoleUser: ADMIN,
    ListConsoleUsers: ADMIN,
    RemoveConsoleUser: ADMIN,
    SignIn: ['console'],
    SignOut: ['console'],
  },
  // Services ask the config service who holds a token (cached; see docs/security.md).
  'postbote.v1.AuthService': { Authenticate: ['service'] },
  'postbote.v1.StorageService': {
    FindStoredSources: FETCHER,
    StoreEmails: FETCHER,
    AppendConnectorLog: FETCHER,
    // The workflow engine (ingest) fetches the email an event names.
    GetEmail: [...READ, 'ingest'],
    DownloadRawEmail: [...READ, 'ingest'],
    ListEmails: READ,
    CountEmails: READ,
    ListConnectorLog: READ,
    GetWorkspaceUsage: READ,
    // Moves every workspace's raw mail into the object store: the installation's business.
    MigrateBlobs: INSTALLATION,
  },
  'postbote.v1.TriggerService': {
    TailEvents: [...READ, 'ingest'],
    // Events the relay set aside (too large to publish), and putting one back in line.
    ListParkedEvents: READ,
    RetryParkedEvent: CHANGE,
  },
  'postbote.v1.FetcherService': { ListFetchers: READ },
  // The schema is public (the .proto files), but a stranger learns nothing from us.
  'grpc.reflection.v1.ServerReflection': { ServerReflectionInfo: ANYONE_KNOWN },
  'grpc.reflection.v1alpha.ServerReflection': { ServerReflectionInfo: ANYONE_KNOWN },
};

/** Answer without credentials: load balancers and orchestrators probe health. */
export const OPEN_SERVICES: readonly string[] = ['grpc.health.v1.Health'];

/** `/pkg.Service/Method` → its service and method names. */
export function splitMethodPath(path: string): { service: string; method: string } {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return m ? { service: m[1] ?? '', method: m[2] ?? '' } : { service: '', method: '' };
}

export function isOpen(path: string): boolean {
  return OPEN_SERVICES.includes(splitMethodPath(path).service);
}

export function grantsFor(path: string): readonly Grant[] {
  const { service, method } = splitMethodPath(path);
  return PERMISSIONS[service]?.[method] ?? [];
}

/** Whether a caller acting in `workspace` holds `grant` (services act for every workspace). */
export function satisfies(principal: Principal, grant: Grant, workspace: string): boolean {
  if (principal.kind === 'token') {
    const role = roleIn(principal, workspace);
    // An installation admin acts as an admin in any workspace; `ingest` is a machine's role, not theirs.
    if (role === INSTALLATION_ADMIN) return grant === INSTALLATION_ADMIN || grant === 'admin' || grant === 'operator' || grant === 'viewer';
    return role === grant;
  }
  if (grant === 'service') return true;
  // The internal token cannot tell services apart, so it counts as each of them.
  return (grant === 'fetcher' || grant === 'console') && (principal.service === grant || principal.service === 'internal');
}

export function permitted(principal: Principal, path: string, workspace: string): boolean {
  return grantsFor(path).some((g) => satisfies(principal, g, workspace));
}

/**
 * Nobody hands out more than they hold: only an installation admin makes another (a token
 * or a person); everything else a workspace admin may give within their workspace (the
 * table above already requires the admin role to create tokens and add people).
 */
export function mayGrant(principal: Principal, role: AnyRole): boolean {
  return role !== INSTALLATION_ADMIN || (principal.kind === 'token' && principal.access.installationAdmin);
}

const GRANT_COLUMNS: readonly Grant[] = [INSTALLATION_ADMIN, 'admin', 'operator', 'viewer', 'ingest', 'fetcher', 'console', 'service'];

/** The permission table as docs/security.md shows it (generated; a test keeps the two equal). */
export function renderPermissionTable(): string {
  const rows = Object.entries(PERMISSIONS).flatMap(([service, methods]) =>
    Object.entries(methods).map(([method, grants]) => {
      const cells = GRANT_COLUMNS.map((g) => (holds(grants, g) ? '✓' : ''));
      return `| \`${service.replace(/^postbote\.v1\./, '')}/${method}\` | ${cells.join(' | ')} |`;
    }),
  );
  return [`| method | ${GRANT_COLUMNS.join(' | ')} |`, `|---|${GRANT_COLUMNS.map(() => '---').join('|')}|`, ...rows].join('\n');
}

/** Whether a column's holder may call a method with these grants (as `satisfies` decides). */
function holds(grants: readonly Grant[], column: Grant): boolean {
  if (grants.includes(column)) return true;
  // A `service` grant includes the fetcher and the console; the installation admin is an admin anywhere.
  if ((column === 'fetcher' || column === 'console') && grants.includes('service')) return true;
  return column === INSTALLATION_ADMIN && grants.some((g) => g === 'admin' || g === 'operator' || g === 'viewer');
}
