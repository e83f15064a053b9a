import { Command } from 'commander';
import { EmailReceived } from '@postbote/proto';
import { consume, type Ctx } from './cli-context';
import { clients } from './clients';

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
          (ctx.json() ? JSON.stringify(EmailReceived.toJSON(e)) : `${e.storedAt?.toISOString() ?? ''} ${e.connectorName} ${e.emailId} ${e.subject}`) + '\n',
        );
      });
    });
  return cmd;
}
