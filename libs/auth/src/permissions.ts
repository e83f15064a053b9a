import type { Principal, Role } from './principal';

/**
 * Who may call what: one table for every gRPC method. The web console holds no rights of
 * its own beyond signing people in: it calls with the signed-in user's session token, so
 * its pages are bound by this same table. A grant is a role of an API token, `fetcher`
 * (the fetcher service's identity: the only caller that may read credentials, store emails
 * and write connector logs), `console` (the console service's identity: signs people in and
 * out) or `service` (any of Postbote's services). A method missing from the table is
 * refused to everyone; a test checks every method of every service is listed.
 */
export type Grant = Role | 'fetcher' | 'console' | 'service';

const READ: readonly Grant[] = ['admin', 'operator', 'viewer'];
const CHANGE: readonly Grant[] = ['admin', 'operator'];
const ADMIN: readonly Grant[] = ['admin'];
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
    RotateKeys: ADMIN,
  },
  'postbote.v1.CredentialService': { GetCredentials: FETCHER },
  'postbote.v1.AccessService': {
    CreateToken: ADMIN,
    ListTokens: ADMIN,
    RevokeToken: ADMIN,
    ListAuditEntries: ADMIN,
    WhoAmI: ANYONE_KNOWN,
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
  },
  'postbote.v1.TriggerService': { TailEvents: [...READ, 'ingest'] },
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

export function satisfies(principal: Principal, grant: Grant): boolean {
  if (principal.kind === 'token') return principal.role === grant;
  if (grant === 'service') return true;
  // The internal token cannot tell services apart, so it counts as each of them.
  return (grant === 'fetcher' || grant === 'console') && (principal.service === grant || principal.service === 'internal');
}

export function permitted(principal: Principal, path: string): boolean {
  return grantsFor(path).some((g) => satisfies(principal, g));
}

const GRANT_COLUMNS: readonly Grant[] = ['admin', 'operator', 'viewer', 'ingest', 'fetcher', 'console', 'service'];

/** The permission table as docs/security.md shows it (generated; a test keeps the two equal). */
export function renderPermissionTable(): string {
  const rows = Object.entries(PERMISSIONS).flatMap(([service, methods]) =>
    Object.entries(methods).map(([method, grants]) => {
      // A `service` grant includes the fetcher and the console; a role grant is exactly that role.
      const cells = GRANT_COLUMNS.map((g) => (grants.includes(g) || ((g === 'fetcher' || g === 'console') && grants.includes('service')) ? '✓' : ''));
      return `| \`${service.replace(/^postbote\.v1\./, '')}/${method}\` | ${cells.join(' | ')} |`;
    }),
  );
  return [`| method | ${GRANT_COLUMNS.join(' | ')} |`, `|---|${GRANT_COLUMNS.map(() => '---').join('|')}|`, ...rows].join('\n');
}
