import { randomUUID } from 'node:crypto';
import { Wakeup } from '@postbote/backoff';
import { DEFAULT_WORKSPACE, inScope } from '@postbote/auth';
import type { Bus } from '@postbote/bus';
import { requireUuid } from '@postbote/errors';
import { serverStream, type ServiceRegistration } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { TriggerServiceService, type EmailReceived, type TriggerServiceServer } from '@postbote/proto';
import { fromRecord } from './event-encoding';
import type { EventTopics } from './event-topics';
import type { OutboxStore } from './outbox-store';
import { parkedEvents } from './parked-events';

const QUEUE_LIMIT = 1_000;

/**
 * TailEvents: a live view of the event topic for operators (`postbote events tail`).
 * Each call joins its own throwaway consumer group from the current end of the topic,
 * so tails never take events away from the workflow engine's group, and sees only the
 * events of the workspace it acts in.
 */
export function triggerService(bus: Bus, topics: EventTopics, outbox: OutboxStore, logger: Logger): ServiceRegistration {
  const implementation: Pick<TriggerServiceServer, 'tailEvents'> = {
    tailEvents: serverStream(logger, 'TailEvents', async (req, send, ctx) => {
      const connectorId = req.connectorId === '' ? '' : requireUuid('connector_id', req.connectorId);
      const queue: EmailReceived[] = [];
      const arrived = new Wakeup();
      let dropped = 0;
      // With a topic per workspace, the caller's own; the filter below holds either way.
      const topic = topics.of(ctx.scope.every ? '' : ctx.scope.workspace);
      await topics.ensure([topic]);
      const sub = await bus.subscribe({ topic, groupId: `postbote-tail-${randomUUID()}`, fromBeginning: false }, async (m) => {
        if (!m.value) return;
        const event = fromRecord(m.value, m.headers);
        // Another workspace's events are not there for this caller (an event from before workspaces is `default`'s).
        if (!inScope(ctx.scope, event.workspace || DEFAULT_WORKSPACE)) return;
        if (connectorId && event.connectorId !== connectorId) return;
        // A slow terminal must not make the service buffer without bound.
        if (queue.length >= QUEUE_LIMIT) dropped++;
        else queue.push(event);
        arrived.notify();
      });
      try {
        while (!ctx.signal.aborted) {
          const next = queue.shift();
          if (next) {
            await send(next);
            continue;
          }
          if (dropped) {
            logger.warn({ dropped }, 'events tail too slow; events skipped in this tail (not in the topic)');
            dropped = 0;
          }
          // Until an event arrives or the call ends (then the loop's condition ends it).
          await arrived.wait(Infinity, ctx.signal).catch(() => undefined);
        }
      } finally {
        await sub.close();
      }
    }),
  };
  return { name: 'postbote.v1.TriggerService', definition: TriggerServiceService, implementation: { ...implementation, ...parkedEvents(outbox, logger) } };
}
