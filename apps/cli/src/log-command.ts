import { Command } from 'commander';
import { call } from '@postbote/grpc-runtime';
import { LogLevel, enumKey } from '@postbote/proto';
import { connectorId, type Ctx } from './cli-context';
import { CliUsageError } from './cli-support';
import { clients } from './clients';
import { print } from './output';

export function logCommand(ctx: Ctx): Command {
  return new Command('log')
    .description('show a connector\'s log ("Protokoll")')
    .argument('<connector>', 'connector id or name')
    .option('--level <level>', 'minimum level: debug, info, warn, error', 'info')
    .option('--limit <n>', 'entries', '100')
    .action(async (ref: string, f: { level: string; limit: string }) => {
      const level = LogLevel[f.level.toUpperCase() as keyof typeof LogLevel];
      if (!level || level === LogLevel.UNSPECIFIED) throw new CliUsageError('--level must be one of debug, info, warn, error');
      const c = clients.storage(ctx);
      const res = await call(c.listConnectorLog, c, { connectorId: await connectorId(ctx, ref), minLevel: level, pageSize: Number(f.limit), pageToken: '' });
      print(ctx.json(), res, () =>
        res.entries.length === 0
          ? `no log entries at ${f.level.toLowerCase()} or above`
          : res.entries.map((e) => `${e.time?.toISOString() ?? ''} ${enumKey(LogLevel, e.level).padEnd(5)} ${e.code} ${e.message}`).join('\n'),
      );
    });
}
