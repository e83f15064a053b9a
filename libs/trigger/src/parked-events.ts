import { requireUuid } from '@postbote/errors';
import { unary } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import type { TriggerServiceServer } from '@postbote/proto';
import type { OutboxStore } from './outbox-store';

/** The events the relay parked, of the caller's workspace, and putting one back in line. */
export function parkedEvents(outbox: OutboxStore, logger: Logger): Pick<TriggerServiceServer, 'listParkedEvents' | 'retryParkedEvent'> {
  return {
    listParkedEvents: unary(logger, 'ListParkedEvents', async (req, ctx) => {
      const page = await outbox.parked(ctx.scope, req.pageSize, req.pageToken);
      return {
        events: page.rows.map((r) => ({ eventId: r.eventId, emailId: r.emailId, connectorId: r.connectorId, parkedAt: r.parkedAt ?? undefined, reason: r.parkedReason ?? '', size: r.payload.length })),
        nextPageToken: page.nextPageToken,
      };
    }),
    retryParkedEvent: unary(logger, 'RetryParkedEvent', async (req, ctx) => {
      const eventId = requireUuid('event_id', req.eventId);
      await outbox.retry(ctx.scope, eventId);
      logger.info({ eventId, workspace: ctx.scope.every ? '' : ctx.scope.workspace }, 'parked event put back in line');
      return {};
    }),
  };
}
