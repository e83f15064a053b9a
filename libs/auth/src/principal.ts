/**
 * Who is calling. People and outside systems hold API tokens with one role each;
 * Postbote's own services are identified by their mutual-TLS certificate (its common
 * name is the service's name) or, where TLS is not mutual, by the shared internal token,
 * which cannot tell the services apart (`internal`).
 */
export const ROLES = ['admin', 'operator', 'viewer', 'ingest'] as const;
export type Role = (typeof ROLES)[number];

export const SERVICE_IDENTITIES = ['config', 'storage', 'trigger', 'fetcher', 'console'] as const;
export type ServiceIdentity = (typeof SERVICE_IDENTITIES)[number];

export interface TokenPrincipal {
  readonly kind: 'token';
  readonly tokenId: string;
  readonly name: string;
  readonly role: Role;
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

export function isServiceIdentity(value: string): value is ServiceIdentity {
  return (SERVICE_IDENTITIES as readonly string[]).includes(value);
}

/** How the audit log and the service logs name a caller (never a secret). */
export function describePrincipal(p: Principal): string {
  return p.kind === 'token' ? `token ${p.tokenId} (${p.name}, ${p.role})` : `service ${p.service}`;
}

/** The roles a person can hold in the web console (`ingest` is for machines). */
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
