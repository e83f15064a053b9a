import { Command } from 'commander';
import { call } from '@postbote/grpc-runtime';
import { EmailReceived, ParkedEvent } from '@postbote/proto';
import { day } from './access-commands';
import { consume, type Ctx } from './cli-context';
import { clients } from './clients';
import { print, table } from './output';
import { oneLine } from './terminal';

export function eventsCommand(ctx: Ctx): Command {
  const cmd = new Command('events').description('workflow-start events');
  cmd
    .command('tail')
    .description('stream EmailReceived events as they are published (Ctrl-C to stop)')
    .option('--connector <id>', 'only this connector')
    .action(async (f: { connector?: string }) => {
      const c = clients.trigger(ctx);
      await consume(c.tailEvents({ connectorId: f.connector ?? '' }), (e) => {
        process.stdout.write(
          (ctx.json() ? JSON.stringify(EmailReceived.toJSON(e)) : `${e.storedAt?.toISOString() ?? ''} ${oneLine(e.connectorName)} ${e.emailId} ${oneLine(e.subject)}`) + '\n',
        );
      });
    });
  cmd
    .command('parked')
    .description('events set aside because they were too large to publish (TRIGGER_MAX_EVENT_BYTES)')
    .action(async () => {
      const c = clients.trigger(ctx);
      const events: ParkedEvent[] = [];
      let pageToken = '';
      do {
        const page = await call(c.listParkedEvents, c, { pageSize: 500, pageToken });
        events.push(...page.events);
        pageToken = page.nextPageToken;
      } while (pageToken);
      print(ctx.json(), events.map((e) => ParkedEvent.toJSON(e)), () =>
        events.length === 0 ? 'no parked events' : table(['EVENT', 'EMAIL', 'CONNECTOR', 'PARKED', 'BYTES', 'WHY'], events.map((e) => [e.eventId, e.emailId, e.connectorId, day(e.parkedAt), String(e.size), e.reason])),
      );
    });
  cmd
    .command('retry <event-id>')
    .description('put a parked event back in line, after the events waiting now (raise TRIGGER_MAX_EVENT_BYTES first)')
    .action(async (eventId: string) => {
      const c = clients.trigger(ctx);
      await call(c.retryParkedEvent, c, { eventId });
      print(ctx.json(), { eventId, retried: true }, () => `event ${eventId} is back in line`);
    });
  return cmd;
}
