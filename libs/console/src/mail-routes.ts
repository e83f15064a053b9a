import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { connectorFromProto } from '@postbote/contract';
import { LOG_LEVEL_NAMES, type LogLevelName } from '@postbote/connector-model';
import { logLevelToProto } from '@postbote/contract';
import type { EmailMetadata } from '@postbote/proto';
import { signedIn, type ConsoleContext } from './console-context';
import { emailPage, emailsPage, fleetPage, logPage } from './pages-mail';

type Params = { id: string };
type Query = Record<string, string | undefined>;

const PAGE = 50;
/** `YYYY-MM-DD` as the start of that day (UTC), or undefined. */
const day = (v: string | undefined) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) ? new Date(`${v}T00:00:00Z`) : undefined);

/** The connector's log, its stored emails (with `.eml` downloads), and the fetcher fleet. */
export function mailRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const { calls } = ctx;

  app.get<{ Params: Params; Querystring: Query }>(
    '/connectors/:id/log',
    signedIn<{ Params: Params; Querystring: Query }>(ctx, async (req, reply, s) => {
      const level: LogLevelName = (LOG_LEVEL_NAMES as readonly string[]).includes(req.query.level ?? '') ? (req.query.level as LogLevelName) : 'INFO';
      const c = connectorFromProto(await calls.as(s, calls.config, calls.config.getConnector, { ref: req.params.id }));
      const res = await calls.as(s, calls.storage, calls.storage.listConnectorLog, { connectorId: c.id, minLevel: logLevelToProto(level), pageSize: PAGE, pageToken: req.query.page ?? '' });
      return ctx.send(reply, logPage(s, c, res.entries, level, res.nextPageToken));
    }),
  );

  app.get<{ Params: Params; Querystring: Query }>(
    '/connectors/:id/emails',
    signedIn<{ Params: Params; Querystring: Query }>(ctx, async (req, reply, s) => {
      const since = day(req.query.since);
      const untilDay = day(req.query.until);
      // "until" names a day the person includes: stored before the end of it.
      const until = untilDay ? new Date(untilDay.getTime() + 86_400_000) : undefined;
      const c = connectorFromProto(await calls.as(s, calls.config, calls.config.getConnector, { ref: req.params.id }));
      const term = (v: string | undefined) => (v ?? '').trim().slice(0, 998);
      const filter = { since: since ? (req.query.since ?? '') : '', until: untilDay ? (req.query.until ?? '') : '', from: term(req.query.from), subject: term(req.query.subject), messageId: term(req.query.message_id) };
      const res = await calls.as(s, calls.storage, calls.storage.listEmails, { connectorId: c.id, since, until, pageSize: PAGE, pageToken: req.query.page ?? '', from: filter.from, subject: filter.subject, messageId: filter.messageId });
      return ctx.send(reply, emailsPage(s, c, res.emails, filter, res.nextPageToken));
    }),
  );

  app.get<{ Params: Params }>(
    '/emails/:id',
    signedIn<{ Params: Params }>(ctx, async (req, reply, s) => {
      const e = await calls.as(s, calls.storage, calls.storage.getEmail, { emailId: req.params.id });
      const c = await calls.as(s, calls.config, calls.config.getConnector, { ref: e.connectorId }).catch(() => null);
      return ctx.send(reply, emailPage(s, e, c?.name ?? e.connectorId));
    }),
  );

  /** The stored bytes exactly, streamed from storage as they come (a 50 MB email is never held whole). */
  app.get<{ Params: Params }>(
    '/emails/:id/raw',
    signedIn<{ Params: Params }>(ctx, async (req, reply, s) => {
      // Asked first, so a missing email or a refusal is a page, not a broken download.
      const e = await calls.as(s, calls.storage, calls.storage.getEmail, { emailId: req.params.id });
      const abort = new AbortController();
      req.raw.on('close', () => abort.abort());
      return reply
        .header('content-type', 'message/rfc822')
        .header('content-disposition', emlDisposition(e))
        .header('content-length', String(e.size))
        .send(Readable.from(calls.download(s, e.id, abort.signal)));
    }),
  );

  app.get(
    '/fleet',
    signedIn(ctx, async (_req, reply, s) => {
      const res = await calls.as(s, calls.fetcher, calls.fetcher.listFetchers, {}, { deadlineMs: 5_000 });
      const list = await calls.as(s, calls.config, calls.config.listConnectors, { pageSize: 1000, pageToken: '' });
      return ctx.send(reply, fleetPage(s, res.instances, new Map(list.connectors.map((c) => [c.id, c.name]))));
    }),
  );
}

/**
 * The download's name: the day it was stored and its subject (`2026-12-06 Invoice 4711.eml`),
 * made safe for every file system (no path separators, controls or characters Windows
 * refuses, at most 80 characters of subject); the UTF-8 name as RFC 6266's filename*, an
 * ASCII one beside it for old clients.
 */
export function emlDisposition(e: Pick<EmailMetadata, 'id' | 'subject' | 'storedAt'>): string {
  const day = (e.storedAt ?? new Date(0)).toISOString().slice(0, 10);
  // eslint-disable-next-line no-control-regex -- control characters are what is taken out
  const subject = [...e.subject.normalize('NFC').replace(/[\u0000-\u001f\u007f-\u009f<>:"/\\|?*\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim()]
    .slice(0, 80)
    .join('')
    .replace(/[. ]+$/, '');
  const name = `${day} ${subject || e.id}.eml`;
  const ascii = name.normalize('NFKD').replace(/[^\x20-\x7e]/g, '').replace(/["\\%;]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
