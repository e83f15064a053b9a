import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { PostboteError } from '@postbote/errors';
import { DEFAULT_CONNECTION_LIMITS, guardConnections, hostOf } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { eventRoutes } from './event-routes';
import { safeNext } from './safe-next';
import { adminRoutes } from './admin-routes';
import { CONSOLE_CSS, CONSOLE_JS } from './assets';
import type { ConsoleConfig } from './console-config';
import { connectorRoutes } from './connector-routes';
import type { Html } from './html';
import { formOf, type ConsoleContext } from './console-context';
import { mailRoutes } from './mail-routes';
import { problemPage, signInPage } from './pages-access';
import { ServiceCalls } from './service-calls';
import { SessionCache, newSignInNonce, sameSecret, sessionCookie, signInCookie, workspaceCookie, type Session } from './sessions';
import { workspaceRoutes } from './workspace-routes';

export interface RunningConsole {
  /** Where people open the console, e.g. http://127.0.0.1:8080/ */
  readonly url: string;
  stop(): Promise<void>;
}

function hostOfOrigin(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

const STATUS: Record<string, [number, string]> = {
  INVALID_ARGUMENT: [400, 'Invalid request'],
  NOT_FOUND: [404, 'Not found'],
  ALREADY_EXISTS: [409, 'Already exists'],
  FAILED_PRECONDITION: [409, 'Not possible now'],
  ABORTED: [409, 'Changed meanwhile'],
  PERMISSION_DENIED: [403, 'Not allowed'],
  RESOURCE_EXHAUSTED: [429, 'Too many requests'],
  UNAVAILABLE: [503, 'A service is unavailable'],
  DEADLINE_EXCEEDED: [504, 'No answer in time'],
};

/**
 * The web console (issue #11): server-rendered pages over the same gRPC services and
 * permission table as the CLI and the API. Never open: every page but sign-in needs a
 * session, every change a CSRF token, and the services decide what the person may do.
 */
export async function startConsole(cfg: ConsoleConfig, deps: { readonly logger: Logger; readonly now?: () => number }): Promise<RunningConsole> {
  const logger = deps.logger;
  const now = deps.now ?? Date.now;
  const https = cfg.https !== null;
  const calls = new ServiceCalls(cfg);
  const sessions = new SessionCache(calls, now);
  const edge = cfg.security.transport.edge ?? DEFAULT_CONNECTION_LIMITS;
  // Slow clients get bounded time: the TLS handshake and a request's headers within the
  // handshake timeout (slowloris), the whole request within 30 s, an idle keep-alive 5 s.
  const http = { bodyLimit: 1024 * 1024, requestTimeout: 30_000, keepAliveTimeout: 5_000, connectionTimeout: 120_000 };
  const app: FastifyInstance = (cfg.https ? Fastify({ https: { cert: cfg.https.cert, key: cfg.https.key, handshakeTimeout: edge.handshakeMs }, ...http }) : Fastify(http)) as FastifyInstance;
  app.server.headersTimeout = edge.handshakeMs;
  guardConnections(app.server, edge, logger, cfg.address);
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);

  const cookieOptions = (expires?: Date) => ({ httpOnly: true, sameSite: 'strict' as const, secure: https, path: '/', ...(expires ? { expires } : {}) });

  const send = (reply: FastifyReply, body: Html, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body.value);
  const fail = (reply: FastifyReply, session: Session | null, err: unknown) => {
    if (err instanceof PostboteError && err.code === 'UNAUTHENTICATED') {
      if (session) sessions.forget(session.token);
      return reply.clearCookie(sessionCookie(https), cookieOptions()).redirect('/sign-in', 303);
    }
    const known = err instanceof PostboteError ? STATUS[err.code] : undefined;
    if (!known) logger.error({ err }, 'console request failed');
    else if (known[0] >= 500) logger.warn({ err }, 'console request failed');
    const [status, title] = known ?? [500, 'Something went wrong'];
    const message = known ? (err as Error).message : 'The console could not complete this request; the service log has the details.';
    return send(reply, problemPage(session, title, message), status);
  };

  const ctx: ConsoleContext = {
    calls,
    logger,
    send,
    fail,
    session: async (req, reply) => {
      const token = req.cookies[sessionCookie(https)];
      let session: Session | null;
      try {
        session = await sessions.resolve(token, req.cookies[workspaceCookie(https)]);
      } catch (err) {
        fail(reply, null, err);
        return null;
      }
      if (!session) {
        if (token) void reply.clearCookie(sessionCookie(https), cookieOptions());
        if (req.method === 'GET') void reply.redirect(`/sign-in?next=${encodeURIComponent(req.url)}`, 303);
        else void send(reply, problemPage(null, 'Signed out', 'Your session has ended. Sign in again.'), 401);
        return null;
      }
      if (req.method !== 'GET' && !sameSecret(formOf(req)['_csrf'], session.csrf)) {
        logger.warn({ path: req.url, client: req.ip }, 'console change refused: missing or wrong CSRF token');
        void send(reply, problemPage(session, 'Not allowed', 'This form is out of date or did not come from this console. Reload the page and try again.'), 403);
        return null;
      }
      return session;
    },
  };

  app.addHook('onRequest', async (req, reply) => {
    void reply.headers({
      'content-security-policy': "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'cache-control': 'no-store',
      ...(https ? { 'strict-transport-security': 'max-age=31536000' } : {}),
    });
    // A change must come from a page of this console (a second line behind the CSRF token).
    // Hosts, not schemes, are compared: behind a TLS-terminating proxy the browser's origin
    // is https while this server speaks http.
    const origin = req.headers.origin;
    if (req.method !== 'GET' && req.method !== 'HEAD' && origin !== undefined && hostOfOrigin(origin) !== (req.headers.host ?? '')) {
      logger.warn({ path: req.url, client: req.ip }, 'console change refused: cross-origin request');
      return send(reply, problemPage(null, 'Not allowed', 'Changes are accepted only from the console’s own pages.'), 403);
    }
    return undefined;
  });

  app.get('/assets/console.css', async (_req, reply) => reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(CONSOLE_CSS));
  app.get('/assets/console.js', async (_req, reply) => reply.header('cache-control', 'public, max-age=3600').type('text/javascript; charset=utf-8').send(CONSOLE_JS));
  app.get('/', async (_req, reply) => reply.redirect('/connectors', 303));

  const signIn = (reply: FastifyReply, next: string, problem: string, status = 200) => {
    const nonce = newSignInNonce();
    void reply.setCookie(signInCookie(https), nonce, cookieOptions());
    return send(reply, signInPage(nonce, next, problem), status);
  };
  app.get('/sign-in', async (req, reply) => signIn(reply, safeNext((req.query as Record<string, string>)['next']), ''));
  app.post('/sign-in', async (req, reply) => {
    const f = formOf(req);
    const next = safeNext(f['next']);
    if (!sameSecret(f['_signin'], req.cookies[signInCookie(https)] ?? '\0')) return signIn(reply, next, 'The sign-in form was out of date. Please try again.', 403);
    try {
      const res = await calls.asConsole(calls.consoleUsers, calls.consoleUsers.signIn, { name: f['name'] ?? '', password: f['password'] ?? '', clientAddress: req.ip });
      const expiresAt = res.expiresAt ?? new Date(now() + 3_600_000);
      const resolved = await sessions.resolve(res.sessionToken);
      if (resolved) sessions.remember({ ...resolved, expiresAt });
      void reply.clearCookie(signInCookie(https), cookieOptions());
      void reply.setCookie(sessionCookie(https), res.sessionToken, cookieOptions(expiresAt));
      logger.info({ user: res.user?.name, client: req.ip }, 'console sign-in');
      return reply.redirect(next, 303);
    } catch (err) {
      if (err instanceof PostboteError && err.code === 'UNAUTHENTICATED') return signIn(reply, next, 'Unknown user name or wrong password.', 401);
      if (err instanceof PostboteError && err.code === 'RESOURCE_EXHAUSTED') return signIn(reply, next, err.message, 429);
      return fail(reply, null, err);
    }
  });
  app.post('/sign-out', async (req, reply) => {
    const session = await ctx.session(req, reply);
    if (!session) return reply;
    sessions.forget(session.token);
    await calls.asConsole(calls.consoleUsers, calls.consoleUsers.signOut, { sessionToken: session.token }).catch((err: unknown) => logger.warn({ err }, 'console sign-out could not end the session; it ends at its expiry'));
    void reply.clearCookie(sessionCookie(https), cookieOptions());
    return signIn(reply, '/connectors', '');
  });

  connectorRoutes(app, ctx);
  mailRoutes(app, ctx);
  adminRoutes(app, ctx);
  eventRoutes(app, ctx);
  workspaceRoutes(app, ctx, (reply, workspace) => reply.setCookie(workspaceCookie(https), workspace, cookieOptions(new Date(now() + 365 * 86_400_000))));
  app.setNotFoundHandler(async (req, reply) => {
    const session = req.method === 'GET' ? await sessions.resolve(req.cookies[sessionCookie(https)], req.cookies[workspaceCookie(https)]).catch(() => null) : null;
    return send(reply, problemPage(session, 'Not found', 'There is no such page.'), 404);
  });
  app.setErrorHandler(async (err, _req, reply) => {
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return send(reply, problemPage(null, 'Invalid request', 'The request could not be read.'), status);
    logger.error({ err }, 'console request failed');
    return send(reply, problemPage(null, 'Something went wrong', 'The console could not complete this request.'), 500);
  });

  await app.listen({ host: hostOf(cfg.address), port: Number(cfg.address.slice(cfg.address.lastIndexOf(':') + 1)) });
  const bound = app.server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  const url = `${https ? 'https' : 'http'}://${shownHost}:${bound.port}/`;
  return {
    url,
    stop: async () => {
      await app.close();
      calls.close();
    },
  };
}
