import type { FastifyInstance, FastifyReply } from 'fastify';
import { isWorkspaceId } from '@postbote/auth';
import { ValidationError } from '@postbote/errors';
import { formOf, signedIn, type ConsoleContext } from './console-context';
import { problemPage } from './pages-access';
import { EMPTY_WORKSPACE_FORM, workspacesPage, type WorkspaceForm } from './pages-workspaces';
import type { Session } from './sessions';

type Params = { id: string };

/**
 * Switching the workspace a person works in, and the installation admins' workspaces page.
 * The switch only chooses: the services decide what the person may do there.
 */
export function workspaceRoutes(app: FastifyInstance, ctx: ConsoleContext, choose: (reply: FastifyReply, workspace: string) => FastifyReply): void {
  const { calls } = ctx;

  app.post(
    '/workspace',
    signedIn(ctx, async (req, reply, s) => {
      const wanted = formOf(req)['workspace'] ?? '';
      const known = s.installationAdmin ? (await calls.as(s, calls.workspaces, calls.workspaces.listWorkspaces, {})).workspaces.some((w) => w.id === wanted) : s.memberships.has(wanted);
      if (!isWorkspaceId(wanted) || !known) return ctx.send(reply, problemPage(s, s.t.problems.notFound, s.t.problems.notMember), 404);
      return choose(reply, wanted).redirect('/connectors', 303);
    }),
  );

  const list = async (reply: FastifyReply, s: Session, form: WorkspaceForm, flash: string, status = 200) => {
    const res = await calls.as(s, calls.workspaces, calls.workspaces.listWorkspaces, {});
    // Each workspace's stored mail, asked in that workspace (an installation admin may act in any).
    const usage = new Map(await Promise.all(res.workspaces.map(async (w) => [w.id, await calls.as({ token: s.token, workspace: w.id }, calls.storage, calls.storage.getWorkspaceUsage, {}).catch(() => undefined)] as const)));
    return ctx.send(reply, workspacesPage(s, res.workspaces, usage, form, flash), status);
  };
  const notForYou = (reply: FastifyReply, s: Session) => ctx.send(reply, problemPage(s, s.t.problems.notAllowed, s.t.problems.installationOnly), 403);

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/workspaces',
    signedIn<{ Querystring: Record<string, string | undefined> }>(ctx, async (req, reply, s) => {
      if (!s.installationAdmin) return notForYou(reply, s);
      const done = req.query.done;
      return list(reply, s, EMPTY_WORKSPACE_FORM, done === 'created' || done === 'suspended' || done === 'resumed' ? s.t.workspaces[done] : '');
    }),
  );

  app.post(
    '/workspaces',
    signedIn(ctx, async (req, reply, s) => {
      const f = formOf(req);
      const form: WorkspaceForm = { id: f['id'] ?? '', displayName: f['display_name'] ?? '', maxConnectors: f['max_connectors'] ?? '0', errors: new Map() };
      const max = Number(form.maxConnectors || '0');
      if (!Number.isSafeInteger(max) || max < 0 || max > 0xffffffff) return list(reply, s, { ...form, errors: new Map([['quotas.max_connectors', s.t.workspaces.maxInvalid]]) }, '', 422);
      try {
        await calls.as(s, calls.workspaces, calls.workspaces.createWorkspace, { id: form.id, displayName: form.displayName, quotas: { maxConnectors: max } });
        return reply.redirect('/workspaces?done=created', 303);
      } catch (err) {
        if (!(err instanceof ValidationError) && !(err instanceof Error && (err as { code?: string }).code === 'ALREADY_EXISTS')) throw err;
        const errors = new Map<string, string>(err instanceof ValidationError ? err.violations.map((v) => [v.field, v.message]) : [['id', err.message]]);
        return list(reply, s, { ...form, errors }, '', 422);
      }
    }),
  );

  app.post<{ Params: Params }>(
    '/workspaces/:id/suspend',
    signedIn<{ Params: Params }>(ctx, async (req, reply, s) => {
      await calls.as(s, calls.workspaces, calls.workspaces.suspendWorkspace, { id: req.params.id, reason: formOf(req)['reason'] ?? '' });
      return reply.redirect('/workspaces?done=suspended', 303);
    }),
  );

  app.post<{ Params: Params }>(
    '/workspaces/:id/resume',
    signedIn<{ Params: Params }>(ctx, async (req, reply, s) => {
      await calls.as(s, calls.workspaces, calls.workspaces.resumeWorkspace, { id: req.params.id });
      return reply.redirect('/workspaces?done=resumed', 303);
    }),
  );
}
