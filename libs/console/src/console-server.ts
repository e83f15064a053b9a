import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { PostboteError } from '@postbote/errors';
import { DEFAULT_CONNECTION_LIMITS, guardConnections, hostOf } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { eventRoutes } from './event-routes';
import { safeNext } from './safe-next';
import { adminRoutes } from './admin-routes';
import { CONSOLE_CSS, CONSOLE_JS, FAVICON_SVG } from './assets';
import type { ConsoleConfig } from './console-config';
import { connectorRoutes } from './connector-routes';
import type { Html } from './html';
import { formOf, type ConsoleContext } from './console-context';
import { mailRoutes } from './mail-routes';
import { problemPage, signInPage } from './pages-access';
import { ServiceCalls } from './service-calls';
import { viewerFor, negotiate, isLocale, type Messages, type Viewer } from './i18n';
import { SessionCache, langCookie, newSignInNonce, sameSecret, sessionCookie, signInCookie, workspaceCookie, type Session } from './sessions';
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

/** How the console answers a service's error code: the HTTP status and the page's title. */
const STATUS: Record<string, [number, (t: Messages) => string]> = {
  INVALID_ARGUMENT: [400, (t) => t.problems.invalid],
  NOT_FOUND: [404, (t) => t.problems.notFound],
  ALREADY_EXISTS: [409, (t) => t.problems.exists],
  FAILED_PRECONDITION: [409, (t) => t.problems.notNow],
  ABORTED: [409, (t) => t.problems.changed],
  PERMISSION_DENIED: [403, (t) => t.problems.notAllowed],
  RESOURCE_EXHAUSTED: [429, (t) => t.problems.tooMany],
  UNAVAILABLE: [503, (t) => t.problems.unavailable],
  DEADLINE_EXCEEDED: [504, (t) => t.problems.timeout],
};

/** The console's HTTP tuning, in one place. */
export const CONSOLE_TUNING = Object.freeze({
  /**
   * Slow clients get bounded time: the TLS handshake and a request's headers within the
   * edge's handshake timeout (slowloris), the whole request within 30 s, an idle keep-alive 5 s.
   */
  http: { bodyLimit: 1024 * 1024, requestTimeout: 30_000, keepAliveTimeout: 5_000, connectionTimeout: 120_000 },
  /** A session whose sign-in answer named no expiry ends after an hour. */
  sessionFallbackMs: 3_600_000,
  /** The chosen workspace and language are remembered this long. */
  workspaceCookieMs: 365 * 86_400_000,
  languageCookieMs: 365 * 86_400_000,
});

/** The console's cookies: names (`__Host-` over HTTPS) and attributes. */
function cookiesFor(https: boolean) {
  return {
    lang: langCookie(https),
    session: sessionCookie(https),
    workspace: workspaceCookie(https),
    signIn: signInCookie(https),
    options: (expires?: Date) => ({ httpOnly: true, sameSite: 'strict' as const, secure: https, path: '/', ...(expires ? { expires } : {}) }),
  };
}
type Cookies = ReturnType<typeof cookiesFor>;

/**
 * The web console (issue #11): server-rendered pages over the same gRPC services and
 * permission table as the CLI and the API. Never open: every page but sign-in needs a
 * session, every change a CSRF token, and the services decide what the person may do.
 */
export async function startConsole(cfg: ConsoleConfig, deps: { readonly logger: Logger; readonly now?: () => number }): Promise<RunningConsole> {
  const logger = deps.logger;
  const now = deps.now ?? Date.now;
  const https = cfg.https !== null;
  const cookies = cookiesFor(https);
  const calls = new ServiceCalls(cfg);
  const sessions = new SessionCache(calls, now);
  const app = await createServer(cfg, logger);
  const ctx = consoleContext(calls, sessions, cookies, logger);

  guardRequests(app, ctx, https);
  app.get('/assets/console.css', async (_req, reply) => reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(CONSOLE_CSS));
  app.get('/assets/console.js', async (_req, reply) => reply.header('cache-control', 'public, max-age=3600').type('text/javascript; charset=utf-8').send(CONSOLE_JS));
  app.get('/', async (_req, reply) => reply.redirect('/connectors', 303));
  app.get('/favicon.svg', async (_req, reply) => reply.header('cache-control', 'public, max-age=86400').type('image/svg+xml').send(FAVICON_SVG));
  // Browsers ask for /favicon.ico whatever the page says; every one of them takes the SVG.
  app.get('/favicon.ico', async (_req, reply) => reply.header('cache-control', 'public, max-age=86400').type('image/svg+xml').send(FAVICON_SVG));
  languageSwitch(app, cookies, now);
  signInRoutes(app, ctx, sessions, cookies, now);
  connectorRoutes(app, ctx);
  mailRoutes(app, ctx);
  adminRoutes(app, ctx);
  eventRoutes(app, ctx);
  workspaceRoutes(app, ctx, (reply, workspace) => reply.setCookie(cookies.workspace, workspace, cookies.options(new Date(now() + CONSOLE_TUNING.workspaceCookieMs))));
  app.setNotFoundHandler(async (req, reply) => {
    const v = ctx.viewer(req);
    const found = req.method === 'GET' ? await sessions.resolve(req.cookies[cookies.session], req.cookies[cookies.workspace]).catch(() => null) : null;
    return ctx.send(reply, problemPage(found ? { ...found, ...v } : v, v.t.problems.notFound, v.t.problems.noSuchPage), 404);
  });
  app.setErrorHandler(async (err, req, reply) => {
    const { t } = ctx.viewer(req);
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) return ctx.send(reply, problemPage(ctx.viewer(req), t.problems.invalid, t.problems.unreadable), status);
    logger.error({ err }, 'console request failed');
    return ctx.send(reply, problemPage(ctx.viewer(req), t.problems.failed, t.problems.failedDetail), 500);
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

/** Fastify with the edge's limits: connections per peer and in all, handshake and header time, body size. */
async function createServer(cfg: ConsoleConfig, logger: Logger): Promise<FastifyInstance> {
  const edge = cfg.security.transport.edge ?? DEFAULT_CONNECTION_LIMITS;
  const http = CONSOLE_TUNING.http;
  const app: FastifyInstance = (cfg.https ? Fastify({ https: { cert: cfg.https.cert, key: cfg.https.key, handshakeTimeout: edge.handshakeMs }, ...http }) : Fastify(http)) as FastifyInstance;
  app.server.headersTimeout = edge.handshakeMs;
  guardConnections(app.server, edge, logger, cfg.address);
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);
  return app;
}

/** How every route answers, and how it finds its request's session and language. */
function consoleContext(calls: ServiceCalls, sessions: SessionCache, cookies: Cookies, logger: Logger): ConsoleContext {
  const viewer = (req: FastifyRequest): Viewer => viewerFor(negotiate(req.cookies[cookies.lang], req.headers['accept-language']));
  const send = (reply: FastifyReply, body: Html, status = 200) => reply.code(status).type('text/html; charset=utf-8').header('content-language', body.lang ?? 'en').send(body.value);
  const fail = (reply: FastifyReply, session: Session | null, err: unknown) => {
    if (err instanceof PostboteError && err.code === 'UNAUTHENTICATED') {
      if (session) sessions.forget(session.token);
      return reply.clearCookie(cookies.session, cookies.options()).redirect('/sign-in', 303);
    }
    const v = session ?? viewer(reply.request);
    const known = err instanceof PostboteError ? STATUS[err.code] : undefined;
    if (!known) logger.error({ err }, 'console request failed');
    else if (known[0] >= 500) logger.warn({ err }, 'console request failed');
    const status = known?.[0] ?? 500;
    const title = known ? known[1](v.t) : v.t.problems.failed;
    const message = known ? (err as Error).message : v.t.problems.failedDetail;
    return send(reply, problemPage(v, title, message), status);
  };
  const session = async (req: FastifyRequest, reply: FastifyReply): Promise<Session | null> => {
    const v = viewer(req);
    const token = req.cookies[cookies.session];
    let found: Session | null;
    try {
      const record = await sessions.resolve(token, req.cookies[cookies.workspace]);
      found = record ? { ...record, ...v } : null;
    } catch (err) {
      fail(reply, null, err);
      return null;
    }
    if (!found) {
      if (token) void reply.clearCookie(cookies.session, cookies.options());
      if (req.method === 'GET') void reply.redirect(`/sign-in?next=${encodeURIComponent(req.url)}`, 303);
      else void send(reply, problemPage(v, v.t.signIn.signedOut, v.t.signIn.sessionEnded), 401);
      return null;
    }
    if (req.method !== 'GET' && !sameSecret(formOf(req)['_csrf'], found.csrf)) {
      logger.warn({ path: req.url, client: req.ip }, 'console change refused: missing or wrong CSRF token');
      void send(reply, problemPage(found, v.t.problems.notAllowed, v.t.problems.csrf), 403);
      return null;
    }
    return found;
  };
  return { calls, logger, send, fail, session, viewer };
}

/**
 * The language switch: remembered in a cookie for a year, back to the page it was chosen on
 * (the referring page of this console; the connectors otherwise).
 */
function languageSwitch(app: FastifyInstance, cookies: Cookies, now: () => number): void {
  app.get<{ Params: { locale: string } }>('/language/:locale', async (req, reply) => {
    const locale = req.params.locale;
    if (!isLocale(locale)) return reply.redirect('/connectors', 303);
    let back = '/connectors';
    const referer = req.headers.referer;
    if (referer) {
      try {
        const url = new URL(referer);
        if (url.host === req.headers.host && !url.pathname.startsWith('/language/')) back = safeNext(`${url.pathname}${url.search}`);
      } catch {
        // not a URL: back to the connectors
      }
    }
    void reply.setCookie(cookies.lang, locale, cookies.options(new Date(now() + CONSOLE_TUNING.languageCookieMs)));
    return reply.redirect(back, 303);
  });
}

/** Headers on every answer (a strict CSP, no framing, no caching) and the same-origin check on every change. */
function guardRequests(app: FastifyInstance, ctx: ConsoleContext, https: boolean): void {
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
      ctx.logger.warn({ path: req.url, client: req.ip }, 'console change refused: cross-origin request');
      const { t } = ctx.viewer(req);
      return ctx.send(reply, problemPage(ctx.viewer(req), t.problems.notAllowed, t.problems.crossOrigin), 403);
    }
    return undefined;
  });
}

/** Sign-in (a form with its own nonce, rate-limited by the config service) and sign-out. */
function signInRoutes(app: FastifyInstance, ctx: ConsoleContext, sessions: SessionCache, cookies: Cookies, now: () => number): void {
  const { calls, logger } = ctx;
  const signIn = (reply: FastifyReply, next: string, problem: (t: Messages) => string, status = 200) => {
    const nonce = newSignInNonce();
    const v = ctx.viewer(reply.request);
    void reply.setCookie(cookies.signIn, nonce, cookies.options());
    return ctx.send(reply, signInPage(v, nonce, next, problem(v.t)), status);
  };
  const none = () => '';
  app.get('/sign-in', async (req, reply) => signIn(reply, safeNext((req.query as Record<string, string>)['next']), none));
  app.post('/sign-in', async (req, reply) => {
    const f = formOf(req);
    const next = safeNext(f['next']);
    if (!sameSecret(f['_signin'], req.cookies[cookies.signIn] ?? '\0')) return signIn(reply, next, (t) => t.signIn.outdated, 403);
    try {
      const res = await calls.asConsole(calls.consoleUsers, calls.consoleUsers.signIn, { name: f['name'] ?? '', password: f['password'] ?? '', clientAddress: req.ip });
      const expiresAt = res.expiresAt ?? new Date(now() + CONSOLE_TUNING.sessionFallbackMs);
      const resolved = await sessions.resolve(res.sessionToken);
      if (resolved) sessions.remember({ ...resolved, expiresAt });
      void reply.clearCookie(cookies.signIn, cookies.options());
      void reply.setCookie(cookies.session, res.sessionToken, cookies.options(expiresAt));
      logger.info({ user: res.user?.name, client: req.ip }, 'console sign-in');
      return reply.redirect(next, 303);
    } catch (err) {
      if (err instanceof PostboteError && err.code === 'UNAUTHENTICATED') return signIn(reply, next, (t) => t.signIn.wrong, 401);
      if (err instanceof PostboteError && err.code === 'RESOURCE_EXHAUSTED') return signIn(reply, next, () => err.message, 429);
      return ctx.fail(reply, null, err);
    }
  });
  app.post('/sign-out', async (req, reply) => {
    const session = await ctx.session(req, reply);
    if (!session) return reply;
    sessions.forget(session.token);
    await calls.asConsole(calls.consoleUsers, calls.consoleUsers.signOut, { sessionToken: session.token }).catch((err: unknown) => logger.warn({ err }, 'console sign-out could not end the session; it ends at its expiry'));
    void reply.clearCookie(cookies.session, cookies.options());
    return signIn(reply, '/connectors', none);
  });
}
