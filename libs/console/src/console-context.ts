import type { FastifyReply, FastifyRequest, RouteGenericInterface } from 'fastify';
import type { Logger } from '@postbote/logging';
import type { Html } from './html';
import type { Viewer } from './i18n';
import type { ServiceCalls } from './service-calls';
import type { Session } from './sessions';

/** What every route module gets: the service calls, the session of a request, and one way to answer. */
export interface ConsoleContext {
  readonly calls: ServiceCalls;
  readonly logger: Logger;
  /** The request's session, or a redirect to sign in (GET) / 401 (anything else); POSTs must carry the session's CSRF token. */
  session(req: FastifyRequest, reply: FastifyReply): Promise<Session | null>;
  send(reply: FastifyReply, body: Html, status?: number): FastifyReply;
  /** The request's language (the remembered switch, else the browser's Accept-Language) and its texts. */
  viewer(req: FastifyRequest): Viewer;
  /** Answers a failed call: the error's code decides the page and status (the one mapping for the console). */
  fail(reply: FastifyReply, session: Session | null, err: unknown): FastifyReply;
}

/** A posted form's fields (the last value of a repeated name). */
export function formOf(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  const body = (req.body ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(body)) {
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    if (typeof last === 'string') out[k] = last;
  }
  return out;
}


type Handler<R extends RouteGenericInterface> = (req: FastifyRequest<R>, reply: FastifyReply, session: Session) => Promise<FastifyReply>;

/**
 * A route for signed-in people: the session (and, for a change, its CSRF token) checked
 * first, any failure of the handler answered by `fail` — so each route says only what it does.
 */
export function signedIn<R extends RouteGenericInterface = RouteGenericInterface>(ctx: ConsoleContext, handler: Handler<R>): (req: FastifyRequest<R>, reply: FastifyReply) => Promise<FastifyReply> {
  return async (req, reply) => {
    const s = await ctx.session(req as FastifyRequest, reply);
    if (!s) return reply;
    try {
      return await handler(req, reply, s);
    } catch (err) {
      return ctx.fail(reply, s, err);
    }
  };
}
