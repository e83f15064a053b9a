import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROTOCOLS, resolveCreate, resolveUpdate, type ConnectorRecord, type ConnectorSpecInput, type Protocol } from '@postbote/connector-model';
import { connectorFromProto, specToProto } from '@postbote/contract';
import { PostboteError, ValidationError, type Violation } from '@postbote/errors';
import type { ConnectorStatus } from '@postbote/proto';
import { errorsByField, specFromForm, violationLines, type FormState } from './connector-form';
import { formOf, signedIn, type ConsoleContext } from './console-context';
import { can, roleName } from './layout';
import { problemPage } from './pages-access';
import { connectorDetail, connectorFormPage, connectorList, deletePage, detailFlash, testPage, testSteps, type Running } from './pages-connectors';
import type { Session } from './sessions';

type Params = { id: string };

/** The fields a refused change names: validation violations, or the secrets a moved server needs again. */
function violationsOf(err: unknown): readonly Violation[] | null {
  if (err instanceof ValidationError) return err.violations;
  if (err instanceof PostboteError && err.reason === 'PASSWORD_REQUIRED') {
    const [fields = '', ...rest] = err.message.split(': ');
    return fields.split(', ').map((field) => ({ field, rule: 'password-required', message: rest.join(': ') }));
  }
  if (err instanceof PostboteError && err.code === 'ALREADY_EXISTS') return [{ field: 'spec.name', rule: 'unique', message: err.message }];
  if (err instanceof PostboteError && err.code === 'ABORTED') return [{ field: '', rule: 'revision', message: `${err.message} — someone changed this connector meanwhile; open it again to see their change` }];
  return null;
}

const get = async (ctx: ConsoleContext, s: Session, id: string): Promise<ConnectorRecord> => connectorFromProto(await ctx.calls.as(s, ctx.calls.config, ctx.calls.config.getConnector, { ref: id }));
const wantsJson = (req: FastifyRequest) => (req.headers.accept ?? '').includes('application/json');

/** Every fetcher's report; `known` false when none answered (states are then unknown, not "stopped"). */
async function running(ctx: ConsoleContext, s: Session): Promise<{ map: Map<string, Running>; known: boolean }> {
  const map = new Map<string, Running>();
  try {
    const res = await ctx.calls.as(s, ctx.calls.fetcher, ctx.calls.fetcher.listFetchers, {}, { deadlineMs: 5_000 });
    for (const i of res.instances) for (const st of i.connectors as ConnectorStatus[]) map.set(st.connectorId, { status: st, fetcher: i.instanceId });
    return { map, known: true };
  } catch {
    return { map, known: false };
  }
}

/** Shows the form again with every error at its field (422), or answers the failure. */
function refused(ctx: ConsoleContext, reply: FastifyReply, s: Session, state: Omit<FormState, 'errors'>, err: unknown) {
  const v = violationsOf(err);
  if (!v) return ctx.fail(reply, s, err);
  return ctx.send(reply, connectorFormPage(s, { ...state, errors: errorsByField(s, v) }, null), 422);
}

/** A form the person could not submit is not shown (the services refuse the change anyway). */
function mayNot(ctx: ConsoleContext, reply: FastifyReply, s: Session, method: string) {
  return can(s, method) ? null : ctx.send(reply, problemPage(s, s.t.problems.notAllowed, s.t.problems.readOnly(roleName(s, s.role))), 403);
}

/** The console's connector pages: the list and a connector's page, its form, its lifecycle, and the form's server actions. */
export function connectorRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  listAndShow(app, ctx);
  createAndEdit(app, ctx);
  lifecycle(app, ctx);
  formActions(app, ctx);
}

function listAndShow(app: FastifyInstance, ctx: ConsoleContext): void {
  const { calls } = ctx;
  app.get(
    '/connectors',
    signedIn(ctx, async (_req, reply, s) => {
      const all: ConnectorRecord[] = [];
      let pageToken = '';
      do {
        const page = await calls.as(s, calls.config, calls.config.listConnectors, { pageSize: 500, pageToken });
        all.push(...page.connectors.map(connectorFromProto));
        pageToken = page.nextPageToken;
      } while (pageToken);
      const r = await running(ctx, s);
      return ctx.send(reply, connectorList(s, all, r.map, r.known));
    }),
  );

  app.get<{ Params: Params }>(
    '/connectors/:id',
    signedIn<{ Params: Params }>(ctx, async (req, reply, s) => {
      const c = await get(ctx, s, req.params.id);
      const r = await running(ctx, s);
      return ctx.send(reply, connectorDetail(s, c, r.map.get(c.id), detailFlash(s, (req.query as Record<string, string>)['done'])));
    }),
  );
}

function createAndEdit(app: FastifyInstance, ctx: ConsoleContext): void {
  const { calls } = ctx;
  app.get(
    '/connectors/new',
    signedIn(ctx, async (req, reply, s) => {
      if (mayNot(ctx, reply, s, 'ConnectorService/CreateConnector')) return reply;
      const asked = (req.query as Record<string, string>)['protocol'] ?? 'IMAP';
      const protocol: Protocol = (PROTOCOLS as readonly string[]).includes(asked) ? (asked as Protocol) : 'IMAP';
      return ctx.send(reply, connectorFormPage(s, { protocol, current: null, body: null, errors: new Map() }, null));
    }),
  );

  app.post(
    '/connectors',
    signedIn(ctx, async (req, reply, s) => {
      const body = formOf(req);
      const protocol: Protocol = body['protocol'] === 'POP3' ? 'POP3' : 'IMAP';
      const input = specFromForm(body, protocol, true);
      try {
        // The validator the config service runs, run here first: every error at once, before a round trip.
        resolveCreate(input);
        const res = await calls.as(s, calls.config, calls.config.createConnector, { spec: specToProto(input) });
        return reply.redirect(`/connectors/${res.connector?.id ?? ''}?done=created`, 303);
      } catch (err) {
        return refused(ctx, reply, s, { protocol, current: null, body }, err);
      }
    }),
  );

  app.get<{ Params: Params }>(
    '/connectors/:id/edit',
    signedIn<{ Params: Params }>(ctx, async (req, reply, s) => {
      if (mayNot(ctx, reply, s, 'ConnectorService/UpdateConnector')) return reply;
      const c = await get(ctx, s, req.params.id);
      return ctx.send(reply, connectorFormPage(s, { protocol: c.protocol, current: c, body: null, errors: new Map() }, null));
    }),
  );

  app.post<{ Params: Params }>(
    '/connectors/:id',
    signedIn<{ Params: Params }>(ctx, async (req, reply, s) => {
      const body = formOf(req);
      const c = await get(ctx, s, req.params.id);
      const input: ConnectorSpecInput = specFromForm(body, c.protocol, false);
      const expected = Number(body['expected_revision']);
      try {
        resolveUpdate(c, input, c.secretsSet);
        await calls.as(s, calls.config, calls.config.updateConnector, { ref: c.id, spec: specToProto(input), expectedRevision: Number.isInteger(expected) ? expected : undefined });
        return reply.redirect(`/connectors/${c.id}?done=saved`, 303);
      } catch (err) {
        return refused(ctx, reply, s, { protocol: c.protocol, current: c, body }, err);
      }
    }),
  );
}

function lifecycle(app: FastifyInstance, ctx: ConsoleContext): void {
  const { calls } = ctx;
  app.post<{ Params: Params }>(
    '/connectors/:id/enabled',
    signedIn<{ Params: Params }>(ctx, async (req, reply, s) => {
      const enabled = formOf(req)['enabled'] === 'true';
      const c = await calls.as(s, calls.config, calls.config.setConnectorEnabled, { ref: req.params.id, enabled });
      return reply.redirect(`/connectors/${c.id}?done=${enabled ? 'enabled' : 'disabled'}`, 303);
    }),
  );

  app.get<{ Params: Params }>(
    '/connectors/:id/delete',
    signedIn<{ Params: Params }>(ctx, async (req, reply, s) => {
      if (mayNot(ctx, reply, s, 'ConnectorService/DeleteConnector')) return reply;
      return ctx.send(reply, deletePage(s, await get(ctx, s, req.params.id)));
    }),
  );

  app.post<{ Params: Params }>(
    '/connectors/:id/delete',
    signedIn<{ Params: Params }>(ctx, async (req, reply, s) => {
      await calls.as(s, calls.config, calls.config.deleteConnector, { ref: req.params.id, purgeEmailsNow: formOf(req)['purge_emails_now'] === 'on' });
      return reply.redirect('/connectors', 303);
    }),
  );

  app.post<{ Params: Params }>(
    '/connectors/:id/test',
    signedIn<{ Params: Params }>(ctx, async (req, reply, s) => {
      const c = await get(ctx, s, req.params.id);
      const r = await calls.as(s, calls.config, calls.config.testConnection, { target: { $case: 'ref', value: c.id }, overrides: undefined }, { deadlineMs: c.connectTimeoutMs * 3 + 15_000 });
      return ctx.send(reply, testPage(s, c, r));
    }),
  );
}

/** "Test connection" and "Choose from server" on the form: the settings as typed, stored ones for what is left empty. */
function formActions(app: FastifyInstance, ctx: ConsoleContext): void {
  const { calls } = ctx;
  const action = (kind: 'test' | 'folders') => async (req: FastifyRequest<{ Params: Partial<Params> }>, reply: FastifyReply) => {
    const s = await ctx.session(req, reply);
    if (!s) return reply;
    const body = formOf(req);
    try {
      const c = req.params.id ? await get(ctx, s, req.params.id) : null;
      const protocol: Protocol = c?.protocol ?? (body['protocol'] === 'POP3' ? 'POP3' : 'IMAP');
      const spec = specToProto(specFromForm(body, protocol, !c));
      const target = c ? { $case: 'ref' as const, value: c.id } : { $case: 'spec' as const, value: spec };
      if (kind === 'folders') {
        const r = await calls.as(s, calls.config, calls.config.listFolders, { target }, { deadlineMs: 60_000 });
        return reply.type('application/json').send({ folders: r.folders });
      }
      const r = await calls.as(s, calls.config, calls.config.testConnection, { target, overrides: c ? spec : undefined }, { deadlineMs: 60_000 });
      // The form's script shows the same rendering as the page would (one home for how a test reads).
      if (wantsJson(req)) return reply.type('application/json').send({ ok: r.ok, steps: r.steps, html: testSteps(s, r).value });
      return ctx.send(reply, connectorFormPage(s, { protocol, current: c, body, errors: new Map() }, r));
    } catch (err) {
      if (wantsJson(req) || kind === 'folders') {
        const v = violationsOf(err);
        const message = v ? violationLines(s, v).join('; ') : err instanceof PostboteError ? err.message : s.t.form.testFailed;
        return reply.code(v ? 422 : 502).type('application/json').send({ error: message });
      }
      return ctx.fail(reply, s, err);
    }
  };
  app.post('/connectors/test-form', action('test'));
  app.post('/connectors/folders', action('folders'));
  app.post<{ Params: Params }>('/connectors/:id/test-form', action('test'));
  app.post<{ Params: Params }>('/connectors/:id/folders', action('folders'));
}
