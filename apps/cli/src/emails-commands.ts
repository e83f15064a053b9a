import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { finished } from 'node:stream/promises';
import { Command } from 'commander';
import { call } from '@postbote/grpc-runtime';
import { addressText, sourceText } from '@postbote/contract';
import { EmailMetadata } from '@postbote/proto';
import { connectorId, consume, dateFlag, type Ctx } from './cli-context';
import { clients } from './clients';
import { print, table } from './output';
import { oneLine } from './terminal';


/** A stored email's metadata as lines a person reads (`--json` prints the API's form). */
function emailLines(e: EmailMetadata): string {
  const where = sourceText(e.source);
  const rows: Array<[string, string]> = [
    ['Id', e.id],
    ['Subject', e.subject],
    ['From', addressText(e.from)],
    ['To', e.to.map(addressText).join(', ')],
    ...(e.cc.length ? [['Cc', e.cc.map(addressText).join(', ')] as [string, string]] : []),
    ['Date', e.date?.toISOString() ?? ''],
    ['Message-ID', e.messageId],
    ['Received', e.receivedAt?.toISOString() ?? ''],
    ['Stored', e.storedAt?.toISOString() ?? ''],
    ['Size', `${e.size} bytes`],
    ['SHA-256', e.sha256],
    ['Source', where],
    ['Event', e.eventId ? `${e.eventId} (${e.eventPublishedAt ? `published ${e.eventPublishedAt.toISOString()}` : 'waiting in the outbox'})` : 'none (a duplicate)'],
    ['Attachments', e.attachments.length ? e.attachments.map((a) => `${a.fileName || '(unnamed)'} (${a.contentType}, ${a.size} bytes)`).join('; ') : 'none'],
    ['Parse problems', e.parseError || 'none'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${oneLine(v)}`).join('\n');
}

export function emailsCommand(ctx: Ctx): Command {
  const cmd = new Command('emails').description('stored emails: list and search, metadata, raw download');
  const client = () => clients.storage(ctx);
  cmd
    .command('list <connector>')
    .description('list stored emails of a connector (id or name), newest first; search by sender, subject or Message-ID')
    .option('--limit <n>', 'page size (max 500)', '50')
    .option('--since <date>', 'stored at or after')
    .option('--until <date>', 'stored before')
    .option('--from <text>', 'the sender\'s address or name contains this (ignoring case)')
    .option('--subject <text>', 'the subject contains this (ignoring case)')
    .option('--message-id <id>', 'the Message-ID is this (with or without <>)')
    .option('--page-token <token>', 'continue from a previous page')
    .action(async (ref: string, f: { limit: string; since?: string; until?: string; from?: string; subject?: string; messageId?: string; pageToken?: string }) => {
      const c = client();
      const res = await call(c.listEmails, c, {
        connectorId: await connectorId(ctx, ref),
        pageSize: Number(f.limit),
        pageToken: f.pageToken ?? '',
        since: dateFlag('since', f.since),
        until: dateFlag('until', f.until),
        from: f.from ?? '',
        subject: f.subject ?? '',
        messageId: f.messageId ?? '',
      });
      const more = res.nextPageToken ? `\nmore: --page-token ${res.nextPageToken}` : '';
      print(ctx.json(), { emails: res.emails.map((e) => EmailMetadata.toJSON(e)), nextPageToken: res.nextPageToken }, () =>
        res.emails.length === 0
          ? `no stored emails match${more}`
          : table(
              ['ID', 'STORED', 'FROM', 'SUBJECT'],
              res.emails.map((e) => [e.id, e.storedAt?.toISOString() ?? '', e.from?.address ?? '', e.subject]),
            ) + more,
      );
    });
  cmd
    .command('show <emailId>')
    .description('show the parsed metadata of a stored email')
    .action(async (emailId: string) => {
      const c = client();
      const e = await call(c.getEmail, c, { emailId });
      print(ctx.json(), EmailMetadata.toJSON(e), () => emailLines(e));
    });
  cmd
    .command('download <emailId>')
    .description('write the raw .eml, byte for byte, to stdout or --output')
    .option('-o, --output <file>', 'write to a file instead of stdout (only a complete download is left there)')
    .action(async (emailId: string, f: { output?: string }) => {
      const c = client();
      // Asked first: a wrong id is an error before any file exists.
      const e = await call(c.getEmail, c, { emailId });
      if (!f.output) return consume(c.downloadRawEmail({ emailId: e.id }), (chunk) => void process.stdout.write(chunk.data));
      // Written beside the target and renamed when complete: a failure never leaves a partial or empty file.
      const part = `${f.output}.${randomBytes(4).toString('hex')}.part`;
      const out = createWriteStream(part, { flags: 'wx' });
      let written = 0;
      try {
        await consume(c.downloadRawEmail({ emailId: e.id }), (chunk) => {
          written += chunk.data.length;
          out.write(chunk.data);
        });
        out.end();
        await finished(out);
        if (written !== e.size) throw new Error(`the download ended after ${written} of ${e.size} bytes`);
        renameSync(part, f.output);
      } catch (err) {
        out.destroy();
        rmSync(part, { force: true });
        throw err;
      }
    });
  return cmd;
}
