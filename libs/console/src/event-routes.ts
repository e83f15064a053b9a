import type { FastifyInstance } from 'fastify';
import { formOf, signedIn, type ConsoleContext } from './console-context';
import { parkedEventsPage } from './pages-events';

type Query = Record<string, string | undefined>;

/** The workspace's parked workflow events, and retrying one. */
export function eventRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const { calls } = ctx;

  app.get<{ Querystring: Query }>(
    '/events/parked',
    signedIn<{ Querystring: Query }>(ctx, async (req, reply, s) => {
      const res = await calls.as(s, calls.trigger, calls.trigger.listParkedEvents, { pageSize: 100, pageToken: req.query.page ?? '' });
      return ctx.send(reply, parkedEventsPage(s, res.events, res.nextPageToken, req.query.done === 'retried' ? s.t.parked.retried : ''));
    }),
  );

  app.post(
    '/events/parked/retry',
    signedIn(ctx, async (req, reply, s) => {
      await calls.as(s, calls.trigger, calls.trigger.retryParkedEvent, { eventId: formOf(req)['event'] ?? '' });
      return reply.redirect('/events/parked?done=retried', 303);
    }),
  );
}
