import { createWriteStream } from 'node:fs';
import { Command } from 'commander';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { call, fromGrpcError } from '@postbote/grpc-runtime';
import { EmailMetadata, EmailReceived, LogLevel } from '@postbote/proto';
import { clients, type Addresses } from './clients';
import { print, table } from './output';
import { CliUsageError } from './cli-support';

interface Ctx {
  addresses: () => Addresses;
  json: () => boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Connector commands take an id or a name; storage keys on ids, so names are looked up. */
async function connectorId(ctx: Ctx, ref: string): Promise<string> {
  if (UUID.test(ref)) return ref.toLowerCase();
  const c = clients.config(ctx.addresses());
  return (await call(c.getConnector, c, { ref })).id;
}

function dateFlag(flag: string, raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new CliUsageError(`--${flag} must be a date, e.g. 2026-11-27 or 2026-11-27T10:00:00Z`);
  return d;
}

/** Resolves when a server stream ends; each message goes to `onData`. */
function consume<T>(stream: ClientReadableStream<T>, onData: (m: T) => void | Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('data', (m: T) => void onData(m));
    stream.on('error', (err) => reject(fromGrpcError(err as Parameters<typeof fromGrpcError>[0])));
    stream.on('end', () => resolve());
  });
}

export function emailsCommand(ctx: Ctx): Command {
  const cmd = new Command('emails').description('stored emails: list, metadata, raw download');
  const client = () => clients.storage(ctx.addresses());
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

export function logCommand(ctx: Ctx): Command {
  return new Command('log')
    .description('show a connector\'s log ("Protokoll")')
    .argument('<connector>', 'connector id or name')
    .option('--level <level>', 'minimum level: debug, info, warn, error', 'info')
    .option('--limit <n>', 'entries', '100')
    .action(async (ref: string, f: { level: string; limit: string }) => {
      const level = LogLevel[f.level.toUpperCase() as keyof typeof LogLevel];
      if (!level || level === LogLevel.UNSPECIFIED) throw new CliUsageError('--level must be one of debug, info, warn, error');
      const c = clients.storage(ctx.addresses());
      const res = await call(c.listConnectorLog, c, { connectorId: await connectorId(ctx, ref), minLevel: level, pageSize: Number(f.limit), pageToken: '' });
      print(ctx.json(), res, () =>
        res.entries.map((e) => `${e.time?.toISOString() ?? ''} ${e.level.replace('LOG_LEVEL_', '').padEnd(5)} ${e.code} ${e.message}`).join('\n'),
      );
    });
}

export function eventsCommand(ctx: Ctx): Command {
  const cmd = new Command('events').description('workflow-start events');
  cmd
    .command('tail')
    .description('stream EmailReceived events as they are published (Ctrl-C to stop)')
    .option('--connector <id>', 'only this connector')
    .action(async (f: { connector?: string }) => {
      const c = clients.trigger(ctx.addresses());
      await consume(c.tailEvents({ connectorId: f.connector ?? '' }), (e) => {
        process.stdout.write(
          (ctx.json() ? JSON.stringify(EmailReceived.toJSON(e)) : `${e.storedAt?.toISOString() ?? ''} ${e.connectorName} ${e.emailId} ${e.subject}`) + '\n',
        );
      });
    });
  return cmd;
}

export function keysCommand(ctx: Ctx): Command {
  const cmd = new Command('keys').description('master keys of the stored credentials');
  cmd
    .command('rotate')
    .description('re-encrypt every stored password under the active key (embedded default: mint a new key first)')
    .action(async () => {
      const c = clients.config(ctx.addresses());
      const res = await call(c.rotateKeys, c, {}, { deadlineMs: 600_000 });
      print(ctx.json(), res, () => `active key ${res.activeKeyId}; re-encrypted ${res.reencrypted} secret(s)`);
    });
  return cmd;
}

export function fetchersCommand(ctx: Ctx): Command {
  return new Command('fetchers').description('fetcher instances, their partitions and connector states').action(async () => {
    const c = clients.fetcher(ctx.addresses());
    const res = await call(c.listFetchers, c, {});
    print(ctx.json(), res, () =>
      res.instances.map((i) => `${i.instanceId} partitions=${i.partitions.join(',')}\n${table(['CONNECTOR', 'STATE', 'LAST ERROR'], i.connectors.map((s) => [s.connectorId, s.state, s.lastError]))}`).join('\n\n'),
    );
  });
}
