import { createWriteStream } from 'node:fs';
import { Command } from 'commander';
import { call } from '@postbote/grpc-runtime';
import { EmailMetadata } from '@postbote/proto';
import { connectorId, consume, dateFlag, type Ctx } from './cli-context';
import { clients } from './clients';
import { print, table } from './output';

export function emailsCommand(ctx: Ctx): Command {
  const cmd = new Command('emails').description('stored emails: list, metadata, raw download');
  const client = () => clients.storage(ctx);
  cmd
    .command('list <connector>')
    .description('list stored emails of a connector (id or name), newest first')
    .option('--limit <n>', 'page size (max 500)', '50')
    .option('--since <date>', 'stored at or after')
    .option('--until <date>', 'stored before')
    .option('--page-token <token>', 'continue from a previous page')
    .action(async (ref: string, f: { limit: string; since?: string; until?: string; pageToken?: string }) => {
      const c = client();
      const res = await call(c.listEmails, c, {
        connectorId: await connectorId(ctx, ref),
        pageSize: Number(f.limit),
        pageToken: f.pageToken ?? '',
        since: dateFlag('since', f.since),
        until: dateFlag('until', f.until),
      });
      print(ctx.json(), { emails: res.emails.map((e) => EmailMetadata.toJSON(e)), nextPageToken: res.nextPageToken }, () =>
        table(
          ['ID', 'STORED', 'FROM', 'SUBJECT'],
          res.emails.map((e) => [e.id, e.storedAt?.toISOString() ?? '', e.from?.address ?? '', e.subject]),
        ) + (res.nextPageToken ? `\nmore: --page-token ${res.nextPageToken}` : ''),
      );
    });
  cmd
    .command('show <emailId>')
    .description('show the parsed metadata of a stored email')
    .action(async (emailId: string) => {
      const c = client();
      const e = await call(c.getEmail, c, { emailId });
      print(ctx.json(), EmailMetadata.toJSON(e), () => JSON.stringify(EmailMetadata.toJSON(e), null, 2));
    });
  cmd
    .command('download <emailId>')
    .description('write the raw .eml, byte for byte, to stdout or --output')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (emailId: string, f: { output?: string }) => {
      const c = client();
      const out = f.output ? createWriteStream(f.output) : process.stdout;
      await consume(c.downloadRawEmail({ emailId }), (chunk) => void out.write(chunk.data));
      if (f.output) await new Promise((r) => (out as ReturnType<typeof createWriteStream>).end(r));
    });
  return cmd;
}
