import type { FastifyInstance, FastifyReply } from 'fastify';
import { roleToProto } from '@postbote/contract';
import { PostboteError, ValidationError } from '@postbote/errors';
import { formOf, signedIn, type ConsoleContext } from './console-context';
import { INSTALLATION_ADMIN, isConsoleRole } from '@postbote/auth';
import { auditPage, usersPage, type UserForm } from './pages-admin';
import type { Session } from './sessions';

type Query = Record<string, string | undefined>;

/** Admin pages: the audit log and the console's users. The services refuse anyone else; the pages say so first. */
export function adminRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const { calls } = ctx;

  app.get<{ Querystring: Query }>(
    '/audit',
    signedIn<{ Querystring: Query }>(ctx, async (req, reply, s) => {
      const target = (req.query.target ?? '').slice(0, 36);
      const res = await calls.as(s, calls.access, calls.access.listAuditEntries, { pageSize: 100, pageToken: req.query.page ?? '', targetId: target });
      return ctx.send(reply, auditPage(s, res.entries, res.nextPageToken, target));
    }),
  );

  const users = async (reply: FastifyReply, s: Session, form: UserForm, flash: string, status = 200) => {
    const res = await calls.as(s, calls.consoleUsers, calls.consoleUsers.listConsoleUsers, {});
    return ctx.send(reply, usersPage(s, res.users, form, flash), status);
  };
  const empty: UserForm = { name: '', role: 'viewer', errors: new Map() };

  app.get<{ Querystring: Query }>(
    '/users',
    signedIn<{ Querystring: Query }>(ctx, async (req, reply, s) => {
      const done = req.query.done;
      return users(reply, s, empty, done === 'added' ? s.t.users.saved : done === 'removed' ? s.t.users.removed : '');
    }),
  );

  app.post(
    '/users',
    signedIn(ctx, async (req, reply, s) => {
      const f = formOf(req);
      const given = f['role'] ?? '';
      const role = isConsoleRole(given) || (given === INSTALLATION_ADMIN && s.installationAdmin) ? given : 'viewer';
      try {
        await calls.as(s, calls.consoleUsers, calls.consoleUsers.addConsoleUser, { name: f['name'] ?? '', role: roleToProto(role), password: f['password'] ?? '', replace: f['replace'] === 'on' });
        return reply.redirect('/users?done=added', 303);
      } catch (err) {
        const errors = new Map<string, string>();
        if (err instanceof ValidationError) for (const v of err.violations) errors.set(v.field, v.message);
        else if (err instanceof PostboteError && err.code === 'ALREADY_EXISTS') errors.set('name', err.message);
        else throw err;
        return users(reply, s, { name: f['name'] ?? '', role, errors }, '', 422);
      }
    }),
  );

  app.post(
    '/users/remove',
    signedIn(ctx, async (req, reply, s) => {
      await calls.as(s, calls.consoleUsers, calls.consoleUsers.removeConsoleUser, { name: formOf(req)['name'] ?? '' });
      return reply.redirect('/users?done=removed', 303);
    }),
  );
}
