import { ROLES, type Role as AuthRole, type Principal } from '@postbote/auth';
import { Role, enumKey, type WhoAmIResponse } from '@postbote/proto';

/** `admin` ↔ `ROLE_ADMIN`; the empty string for an unset or unknown value. */
export function roleToProto(role: AuthRole): Role {
  return Role[role.toUpperCase() as Uppercase<AuthRole>];
}

export function roleFromProto(role: Role | string): AuthRole | '' {
  const name = enumKey(Role, role).toLowerCase();
  return (ROLES as readonly string[]).includes(name) ? (name as AuthRole) : '';
}

export function principalToProto(p: Principal, description: string): WhoAmIResponse {
  return p.kind === 'token'
    ? { description, role: roleToProto(p.role), tokenId: p.tokenId, service: '', name: p.name }
    : { description, role: Role.UNSPECIFIED, tokenId: '', service: p.service, name: '' };
}
