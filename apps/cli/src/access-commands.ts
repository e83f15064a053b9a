import { Command, Option } from 'commander';
import { ANY_ROLES, type AnyRole } from '@postbote/auth';
import { roleFromProto, roleToProto } from '@postbote/contract';
import { call } from '@postbote/grpc-runtime';
import { ApiToken, AuditEntry, CreateTokenResponse, WhoAmIResponse } from '@postbote/proto';
import { connectorId, type Ctx } from './cli-context';
import { CliUsageError } from './cli-support';
import { clients } from './clients';
import { print, table } from './output';

export const day = (d: Date | undefined) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '');

/** `postbote tokens …`: API tokens for people and outside systems (admin only). */
export function tokensCommand(ctx: Ctx): Command {
  const cmd = new Command('tokens').description('API tokens of a workspace (admin): create, list, revoke');
  cmd
    .command('create')
    .description('create a token acting in the workspace (--workspace); it is printed once and cannot be shown again')
    .requiredOption('--name <name>', 'what it is for, e.g. "workflow engine"')
    .addOption(new Option('--role <role>', 'what it may do (installation-admin: in every workspace; only an installation admin makes one)').choices([...ANY_ROLES]).makeOptionMandatory())
    .option('--valid-days <days>', 'days until it expires (0: never)', '0')
    .action(async (o: { name: string; role: AnyRole; validDays: string }) => {
      const validDays = Number(o.validDays);
      if (!Number.isInteger(validDays) || validDays < 0) throw new CliUsageError('--valid-days must be a whole number of days (0: never expires)');
      const c = clients.access(ctx);
      const res = await call(c.createToken, c, { name: o.name, role: roleToProto(o.role), validDays });
      print(ctx.json(), CreateTokenResponse.toJSON(res), () =>
        [`${res.secret}`, '', `token ${res.token?.id} (${o.role}${res.token?.workspace ? ` in workspace ${res.token.workspace}` : ', every workspace'}) created; it is shown this once — store it now (e.g. in POSTBOTE_TOKEN_FILE, mode 0600)`].join('\n'),
      );
    });
  cmd
    .command('list')
    .description('tokens (never their secrets)')
    .option('--all', 'include revoked tokens')
    .action(async (o: { all?: boolean }) => {
      const c = clients.access(ctx);
      const res = await call(c.listTokens, c, { includeRevoked: Boolean(o.all) });
      print(ctx.json(), res.tokens.map((t) => ApiToken.toJSON(t)), () =>
        table(
          ['ID', 'NAME', 'ROLE', 'WORKSPACE', 'CREATED', 'EXPIRES', 'LAST USED', 'REVOKED'],
          res.tokens.map((t) => [t.id, t.name, roleFromProto(t.role), t.workspace || '(every)', day(t.createdAt), t.expiresAt ? day(t.expiresAt) : 'never', day(t.lastUsedAt), day(t.revokedAt)]),
        ),
      );
    });
  cmd
    .command('revoke <id>')
    .description('stop a token from working (services notice within 30 s)')
    .action(async (id: string) => {
      const c = clients.access(ctx);
      const t = await call(c.revokeToken, c, { id });
      print(ctx.json(), ApiToken.toJSON(t), () => `token ${t.id} (${t.name}) revoked`);
    });
  return cmd;
}

/** `postbote audit`: who changed what (admin only). */
export function auditCommand(ctx: Ctx): Command {
  return new Command('audit')
    .description('the audit log: changes to connectors, keys and tokens, newest first (admin)')
    .option('--connector <ref>', 'only this connector (id or name)')
    .option('--token <id>', 'only this token')
    .option('--limit <n>', 'entries', '50')
    .action(async (o: { connector?: string; token?: string; limit: string }) => {
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliUsageError('--limit must be 1 to 500');
      const targetId = o.connector ? await connectorId(ctx, o.connector) : (o.token ?? '');
      const c = clients.access(ctx);
      const res = await call(c.listAuditEntries, c, { pageSize: limit, pageToken: '', targetId });
      print(ctx.json(), res.entries.map((e) => AuditEntry.toJSON(e)), () =>
        table(
          ['TIME', 'WHO', 'FROM', 'ACTION', 'TARGET', 'DETAIL'],
          res.entries.map((e) => [e.at?.toISOString() ?? '', e.actor, e.peer, e.action, e.targetName || e.targetId, e.detail]),
        ),
      );
    });
}

/** `postbote whoami`: which credentials the CLI uses, as the services see them. */
export function whoamiCommand(ctx: Ctx): Command {
  return new Command('whoami').description('who the services take you for').action(async () => {
    const c = clients.access(ctx);
    const me = await call(c.whoAmI, c, {});
    print(ctx.json(), WhoAmIResponse.toJSON(me), () => me.description);
  });
}
