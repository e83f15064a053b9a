import { DEFAULT_WORKSPACE } from './workspace';

/**
 * Who is calling. People and outside systems hold API tokens: an ordinary token has one
 * role in one workspace, a console session the roles of its person's memberships, and an
 * installation admin's token acts in every workspace (with admin rights there) and on the
 * workspaces themselves. Postbote's own services are identified by their mutual-TLS
 * certificate (its common name is the service's name) or, where TLS is not mutual, by the
 * shared internal token, which cannot tell the services apart (`internal`).
 */
export const ROLES = ['admin', 'operator', 'viewer', 'ingest'] as const;
/** A role inside one workspace. */
export type Role = (typeof ROLES)[number];

/** The vendor's role: creates, suspends and deletes workspaces and may act in any of them. */
export const INSTALLATION_ADMIN = 'installation-admin';
/** What a token or a person can be given: a workspace role, or installation admin. */
export type AnyRole = Role | typeof INSTALLATION_ADMIN;
export const ANY_ROLES: readonly AnyRole[] = [INSTALLATION_ADMIN, ...ROLES];

export const SERVICE_IDENTITIES = ['config', 'storage', 'trigger', 'fetcher', 'console'] as const;
export type ServiceIdentity = (typeof SERVICE_IDENTITIES)[number];

/** What a token may act as: installation admin, or a role in each of some workspaces. */
export type Access = { readonly installationAdmin: true } | { readonly installationAdmin: false; readonly roles: ReadonlyMap<string, Role> };

export interface TokenPrincipal {
  readonly kind: 'token';
  readonly tokenId: string;
  readonly name: string;
  readonly access: Access;
  /** When the token stops working (null: never). */
  readonly expiresAt: Date | null;
}

export interface ServicePrincipal {
  readonly kind: 'service';
  readonly service: ServiceIdentity | 'internal';
}

export type Principal = TokenPrincipal | ServicePrincipal;

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

export function isAnyRole(value: string): value is AnyRole {
  return (ANY_ROLES as readonly string[]).includes(value);
}

export function isServiceIdentity(value: string): value is ServiceIdentity {
  return (SERVICE_IDENTITIES as readonly string[]).includes(value);
}

/** The access of an ordinary API token: one role in one workspace (installation admin: every workspace). */
export function accessOf(role: AnyRole, workspace: string): Access {
  return role === INSTALLATION_ADMIN ? { installationAdmin: true } : { installationAdmin: false, roles: new Map([[workspace, role]]) };
}

export function isInstallationAdmin(p: Principal): boolean {
  return p.kind === 'token' && p.access.installationAdmin;
}

/** The role a token holds in `workspace`: installation admin, a workspace role, or none. */
export function roleIn(p: TokenPrincipal, workspace: string): AnyRole | null {
  return p.access.installationAdmin ? INSTALLATION_ADMIN : (p.access.roles.get(workspace) ?? null);
}

/**
 * Where a call that names no workspace acts: an installation admin in `default`, anyone else
 * in `default` when they belong to it, otherwise in the first of their workspaces by id (an
 * ordinary token has only one). Null only for a token with no role anywhere.
 */
export function homeWorkspace(p: TokenPrincipal): string | null {
  if (p.access.installationAdmin || p.access.roles.has(DEFAULT_WORKSPACE)) return DEFAULT_WORKSPACE;
  return [...p.access.roles.keys()].sort()[0] ?? null;
}

/** How the audit log and the service logs name a caller (never a secret). */
export function describePrincipal(p: Principal, workspace?: string): string {
  if (p.kind === 'service') return `service ${p.service}`;
  const role = p.access.installationAdmin ? INSTALLATION_ADMIN : workspace !== undefined ? (p.access.roles.get(workspace) ?? 'no role') : [...p.access.roles.values()].join('/');
  return `token ${p.tokenId} (${p.name}, ${role})`;
}

/** The roles a person can hold in a workspace through the web console (`ingest` is for machines). */
export const CONSOLE_ROLES = ['admin', 'operator', 'viewer'] as const satisfies readonly Role[];
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

export function isConsoleRole(value: string): value is ConsoleRole {
  return (CONSOLE_ROLES as readonly string[]).includes(value);
}

const CONSOLE_SESSION = 'console: ';

/** A web console session is an API token named after its user; the audit log shows that name. */
export function consoleSessionName(user: string): string {
  return `${CONSOLE_SESSION}${user}`;
}

/** The user of a console session's token name, or null for any other token. */
export function consoleSessionUser(tokenName: string): string | null {
  return tokenName.startsWith(CONSOLE_SESSION) ? tokenName.slice(CONSOLE_SESSION.length) : null;
}
