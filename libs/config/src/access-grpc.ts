import { describePrincipal, isInstallationAdmin } from '@postbote/auth';
import { auditToProto, authenticatedToProto, memberToProto, principalToProto, roleFromProto, tokenToProto } from '@postbote/contract';
import { ValidationError } from '@postbote/errors';
import { unary, type CallContext, type ServiceRegistration } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { AccessServiceService, AuthServiceService, ConsoleUserServiceService, type AccessServiceServer, type AuthServiceServer, type ConsoleUserServiceServer } from '@postbote/proto';
import type { ApiTokens } from './api-tokens';
import type { Actor, AuditLog } from './audit-log';
import type { ConsoleUsers } from './console-users';

/** The workspace a call acts in ('' for a service, which acts for every one). */
export function workspaceOf(ctx: CallContext): string {
  return ctx.scope.every ? '' : ctx.scope.workspace;
}

/** The caller of a request, as the audit log names it, recorded in the workspace it acts in. */
export function actorOf(ctx: CallContext): Actor {
  const workspace = workspaceOf(ctx);
  return { who: describePrincipal(ctx.principal, workspace), peer: ctx.peer, workspace };
}

export function accessService(tokens: ApiTokens, audit: AuditLog, logger: Logger): ServiceRegistration {
  const implementation: AccessServiceServer = {
    createToken: unary(logger, 'CreateToken', async (req, ctx) => {
      const { row, token } = await tokens.create(ctx, { name: req.name, role: roleFromProto(req.role), validDays: req.validDays }, actorOf(ctx));
      return { token: tokenToProto(row), secret: token };
    }),
    listTokens: unary(logger, 'ListTokens', async (req, ctx) => ({ tokens: (await tokens.list(ctx, req.includeRevoked)).map(tokenToProto) })),
    revokeToken: unary(logger, 'RevokeToken', async (req, ctx) => tokenToProto(await tokens.revoke(ctx, req.id, actorOf(ctx)))),
    listAuditEntries: unary(logger, 'ListAuditEntries', async (req, ctx) => {
      const page = await audit.list(ctx.scope, isInstallationAdmin(ctx.principal), req.pageSize, req.pageToken, req.targetId);
      return { entries: page.entries.map(auditToProto), nextPageToken: page.nextPageToken };
    }),
    whoAmI: unary(logger, 'WhoAmI', async (_req, ctx) => principalToProto(ctx.principal, describePrincipal(ctx.principal, workspaceOf(ctx)), workspaceOf(ctx))),
  };
  return { name: 'postbote.v1.AccessService', definition: AccessServiceService, implementation };
}

/** For Postbote's services: who holds a token (the gate lets only service identities call it). */
export function authService(tokens: ApiTokens, logger: Logger): ServiceRegistration {
  const implementation: AuthServiceServer = {
    authenticate: unary(logger, 'Authenticate', async (req) => {
      if (req.token.length > 200) throw ValidationError.single('token', 'max-length', 'is not an API token');
      return authenticatedToProto(await tokens.authenticate(req.token));
    }),
  };
  return { name: 'postbote.v1.AuthService', definition: AuthServiceService, implementation };
}

/** The web console's people; sign-in and sign-out only for the console service (see the permission table). */
export function consoleUserService(users: ConsoleUsers, logger: Logger): ServiceRegistration {
  const implementation: ConsoleUserServiceServer = {
    addConsoleUser: unary(logger, 'AddConsoleUser', async (req, ctx) =>
      memberToProto(await users.add(ctx, { name: req.name, role: roleFromProto(req.role), password: req.password, replace: req.replace }, actorOf(ctx))),
    ),
    listConsoleUsers: unary(logger, 'ListConsoleUsers', async (_req, ctx) => ({ users: (await users.list(ctx)).map(memberToProto) })),
    removeConsoleUser: unary(logger, 'RemoveConsoleUser', async (req, ctx) => memberToProto(await users.remove(ctx, req.name, actorOf(ctx)))),
    signIn: unary(logger, 'SignIn', async (req, ctx) => {
      const s = await users.signIn({ name: req.name, password: req.password, clientAddress: req.clientAddress }, actorOf(ctx));
      return { user: memberToProto(s.user), sessionToken: s.sessionToken, expiresAt: s.expiresAt };
    }),
    signOut: unary(logger, 'SignOut', async (req) => {
      if (req.sessionToken.length <= 200) await users.signOut(req.sessionToken);
      return {};
    }),
  };
  return { name: 'postbote.v1.ConsoleUserService', definition: ConsoleUserServiceService, implementation };
}
