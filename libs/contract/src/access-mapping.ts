import {
  ANY_ROLES,
  INSTALLATION_ADMIN,
  isAnyRole,
  type Access,
  type AnyRole,
  type ApiTokenInfo,
  type AuditEntryInfo,
  type ConsoleMemberInfo,
  type Principal,
  type Role as Role_,
  type TokenPrincipal,
} from '@postbote/auth';
import { Role, enumKey, type ApiToken, type AuditEntry, type AuthenticateResponse, type ConsoleUser, type Membership, type WhoAmIResponse } from '@postbote/proto';

/** `admin` ↔ `ROLE_ADMIN`, `installation-admin` ↔ `ROLE_INSTALLATION_ADMIN`. */
export function roleToProto(role: AnyRole): Role {
  return Role[role.replace('-', '_').toUpperCase() as keyof typeof Role];
}

/** The role a proto value names; the empty string for an unset or unknown value. */
export function roleFromProto(role: Role | string): AnyRole | '' {
  const name = enumKey(Role, role).toLowerCase().replace('_', '-');
  return (ANY_ROLES as readonly string[]).includes(name) ? (name as AnyRole) : '';
}

/** A token's memberships as the API lists them (none for an installation admin). */
export function membershipsToProto(p: Principal): Membership[] {
  if (p.kind !== 'token' || p.access.installationAdmin) return [];
  return [...p.access.roles].map(([workspace, role]) => ({ workspace, role: roleToProto(role) }));
}

/** WhoAmI's answer for a caller acting in `workspace` ('' for a service). */
export function principalToProto(p: Principal, description: string, workspace: string): WhoAmIResponse {
  if (p.kind !== 'token') return { description, role: Role.UNSPECIFIED, tokenId: '', service: p.service, name: '', workspace: '', installationAdmin: false, memberships: [] };
  const role = p.access.installationAdmin ? INSTALLATION_ADMIN : p.access.roles.get(workspace);
  return {
    description,
    role: role ? roleToProto(role) : Role.UNSPECIFIED,
    tokenId: p.tokenId,
    service: '',
    name: p.name,
    workspace,
    installationAdmin: p.access.installationAdmin,
    memberships: membershipsToProto(p),
  };
}

/** Who holds a token, as AuthService answers it (the role field serves services of the previous version). */
export function authenticatedToProto(p: TokenPrincipal | null): AuthenticateResponse {
  if (!p) return { valid: false, tokenId: '', name: '', role: Role.UNSPECIFIED, expiresAt: undefined, installationAdmin: false, memberships: [] };
  const memberships = membershipsToProto(p);
  const role = p.access.installationAdmin ? Role.ADMIN : memberships.length === 1 ? (memberships[0]?.role ?? Role.UNSPECIFIED) : Role.UNSPECIFIED;
  return { valid: true, tokenId: p.tokenId, name: p.name, role, expiresAt: p.expiresAt ?? undefined, installationAdmin: p.access.installationAdmin, memberships };
}

/** The principal behind an AuthService answer, or null. */
export function authenticatedFromProto(r: AuthenticateResponse): TokenPrincipal | null {
  if (!r.valid) return null;
  const roles = new Map<string, Role_>();
  for (const m of r.memberships) {
    const role = roleFromProto(m.role);
    if (role && role !== INSTALLATION_ADMIN) roles.set(m.workspace, role);
  }
  const access: Access = r.installationAdmin ? { installationAdmin: true } : { installationAdmin: false, roles };
  if (!r.installationAdmin && roles.size === 0) return null;
  return { kind: 'token', tokenId: r.tokenId, name: r.name, access, expiresAt: r.expiresAt ?? null };
}

/** A stored role as the API's; UNSPECIFIED for one this version does not know. */
const protoRole = (role: string) => (isAnyRole(role) ? roleToProto(role) : Role.UNSPECIFIED);

export function memberToProto(m: ConsoleMemberInfo): ConsoleUser {
  return { name: m.name, role: protoRole(m.role), createdAt: m.createdAt, createdBy: m.createdBy, lastSignInAt: m.lastSignInAt ?? undefined };
}

export function tokenToProto(t: ApiTokenInfo): ApiToken {
  return {
    id: t.id,
    name: t.name,
    role: protoRole(t.role),
    createdAt: t.createdAt,
    createdBy: t.createdBy,
    expiresAt: t.expiresAt ?? undefined,
    revokedAt: t.revokedAt ?? undefined,
    lastUsedAt: t.lastUsedAt ?? undefined,
    workspace: t.workspaceId ?? '',
  };
}

export function auditToProto(e: AuditEntryInfo): AuditEntry {
  return {
    id: e.id,
    at: e.at,
    actor: e.actor,
    peer: e.peer,
    action: e.action,
    targetType: e.targetType,
    targetId: e.targetId,
    targetName: e.targetName,
    detail: e.detail,
    workspace: e.workspaceId,
  };
}
