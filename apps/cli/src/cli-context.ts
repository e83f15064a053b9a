import type { ClientReadableStream } from '@grpc/grpc-js';
import { isUuid } from '@postbote/errors';
import { call, fromGrpcError } from '@postbote/grpc-runtime';
import type { Connector } from '@postbote/proto';
import { clients, type Target } from './clients';
import { CliUsageError } from './cli-support';

/** What every command gets from the program: where the services are, how to prove who it is, and the output mode. */
export interface Ctx extends Target {
  json: () => boolean;
}

/** Connector commands take an id or a name; storage keys on ids, so names are looked up. */
export async function connectorId(ctx: Ctx, ref: string): Promise<string> {
  if (isUuid(ref)) return ref.toLowerCase();
  const c = clients.config(ctx);
  return (await call(c.getConnector, c, { ref })).id;
}

/** Every connector, page by page. */
export async function allConnectors(ctx: Ctx): Promise<Connector[]> {
  const c = clients.config(ctx);
  const all: Connector[] = [];
  let token = '';
  do {
    const page = await call(c.listConnectors, c, { pageSize: 500, pageToken: token }, { deadlineMs: 10_000 });
    all.push(...page.connectors);
    token = page.nextPageToken;
  } while (token);
  return all;
}

export function dateFlag(flag: string, raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new CliUsageError(`--${flag} must be a date, e.g. 2026-11-27 or 2026-11-27T10:00:00Z`);
  return d;
}

/** Resolves when a server stream ends; each message goes to `onData`. */
export function consume<T>(stream: ClientReadableStream<T>, onData: (m: T) => void | Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.on('data', (m: T) => void onData(m));
    stream.on('error', (err) => reject(fromGrpcError(err as Parameters<typeof fromGrpcError>[0])));
    stream.on('end', () => resolve());
  });
}
