import { describePrincipal, isRole } from '@postbote/auth';
import { principalToProto, roleFromProto, roleToProto } from '@postbote/contract';
import { ValidationError } from '@postbote/errors';
import { unary, type CallContext, type ServiceRegistration } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { AccessServiceService, AuthServiceService, ConsoleUserServiceService, Role, type AccessServiceServer, type ApiToken, type AuditEntry, type AuthServiceServer, type ConsoleUser, type ConsoleUserServiceServer } from '@postbote/proto';
import type { ApiTokenRow, AuditRow, ConsoleUserRow } from './access-entities';
import type { ApiTokens } from './api-tokens';
import type { Actor, AuditLog } from './audit-log';
import type { ConsoleUsers } from './console-users';

/** The caller of a request, as the audit log names it. */
export function actorOf(ctx: CallContext): Actor {
  return { who: describePrincipal(ctx.principal), peer: ctx.peer };
}

export function accessService(tokens: ApiTokens, audit: AuditLog, logger: Logger): ServiceRegistration {
  const implementation: AccessServiceServer = {
    createToken: unary(logger, 'CreateToken', async (req, ctx) => {
      const { row, token } = await tokens.create({ name: req.name, role: roleFromProto(req.role), validDays: req.validDays }, actorOf(ctx));
      return { token: tokenToProto(row), secret: token };
    }),
    listTokens: unary(logger, 'ListTokens', async (req) => ({ tokens: (await tokens.list(req.includeRevoked)).map(tokenToProto) })),
    revokeToken: unary(logger, 'RevokeToken', async (req, ctx) => tokenToProto(await tokens.revoke(req.id, actorOf(ctx)))),
    listAuditEntries: unary(logger, 'ListAuditEntries', async (req) => {
      const page = await audit.list(req.pageSize, req.pageToken, req.targetId);
      return { entries: page.entries.map(auditToProto), nextPageToken: page.nextPageToken };
    }),
    whoAmI: unary(logger, 'WhoAmI', async (_req, ctx) => principalToProto(ctx.principal, describePrincipal(ctx.principal))),
  };
  return { name: 'postbote.v1.AccessService', definition: AccessServiceService, implementation };
}

/** For Postbote's services: who holds a token (the gate lets only service identities call it). */
export function authService(tokens: ApiTokens, logger: Logger): ServiceRegistration {
  const implementation: AuthServiceServer = {
    authenticate: unary(logger, 'Authenticate', async (req) => {
      if (req.token.length > 200) throw ValidationError.single('token', 'max-length', 'is not an API token');
      const p = await tokens.authenticate(req.token);
      return p
        ? { valid: true, tokenId: p.tokenId, name: p.name, role: roleToProto(p.role), expiresAt: p.expiresAt ?? undefined }
        : { valid: false, tokenId: '', name: '', role: Role.UNSPECIFIED, expiresAt: undefined };
    }),
  };
  return { name: 'postbote.v1.AuthService', definition: AuthServiceService, implementation };
}

/** The web console's users; sign-in and sign-out only for the console service (see the permission table). */
export function consoleUserService(users: ConsoleUsers, logger: Logger): ServiceRegistration {
  const implementation: ConsoleUserServiceServer = {
    addConsoleUser: unary(logger, 'AddConsoleUser', async (req, ctx) =>
      consoleUserToProto(await users.add({ name: req.name, role: roleFromProto(req.role), password: req.password, replace: req.replace }, actorOf(ctx))),
    ),
    listConsoleUsers: unary(logger, 'ListConsoleUsers', async () => ({ users: (await users.list()).map(consoleUserToProto) })),
    removeConsoleUser: unary(logger, 'RemoveConsoleUser', async (req, ctx) => consoleUserToProto(await users.remove(req.name, actorOf(ctx)))),
    signIn: unary(logger, 'SignIn', async (req, ctx) => {
      const s = await users.signIn({ name: req.name, password: req.password, clientAddress: req.clientAddress }, actorOf(ctx));
      return { user: consoleUserToProto(s.user), sessionToken: s.sessionToken, expiresAt: s.expiresAt };
    }),
    signOut: unary(logger, 'SignOut', async (req) => {
      if (req.sessionToken.length <= 200) await users.signOut(req.sessionToken);
      return {};
    }),
  };
  return { name: 'postbote.v1.ConsoleUserService', definition: ConsoleUserServiceService, implementation };
}

function consoleUserToProto(row: ConsoleUserRow): ConsoleUser {
  return {
    name: row.name,
    role: isRole(row.role) ? roleToProto(row.role) : Role.UNSPECIFIED,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    lastSignInAt: row.lastSignInAt ?? undefined,
  };
}

function tokenToProto(row: ApiTokenRow): ApiToken {
  return {
    id: row.id,
    name: row.name,
    role: isRole(row.role) ? roleToProto(row.role) : Role.UNSPECIFIED,
    createdAt: row.createdAt,
    createdBy: row.createdBy,
    expiresAt: row.expiresAt ?? undefined,
    revokedAt: row.revokedAt ?? undefined,
    lastUsedAt: row.lastUsedAt ?? undefined,
  };
}

function auditToProto(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    peer: row.peer,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    targetName: row.targetName,
    detail: row.detail,
  };
}
