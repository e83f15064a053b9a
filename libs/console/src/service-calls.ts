import { Metadata, type Client } from '@grpc/grpc-js';
import { WORKSPACE_HEADER, call, connect, fromGrpcError, type CallOpts } from '@postbote/grpc-runtime';
import { AccessServiceClient, ConnectorServiceClient, ConsoleUserServiceClient, FetcherServiceClient, StorageServiceClient, TriggerServiceClient, WorkspaceServiceClient, type WhoAmIResponse } from '@postbote/proto';
import { internalClientAuth } from '@postbote/service-clients';
import type { ConsoleConfig } from './console-config';

/** Who a call is made for: a person's session token, in the workspace they work in. */
export interface OnBehalf {
  readonly token: string;
  readonly workspace: string;
}

type Unary<Req, Res> = Parameters<typeof call<Req, Res>>[0];

/**
 * The console's channels to the services, opened once. Each channel carries the console's
 * own identity (certificate or internal token), which the permission table lets do one
 * thing: sign people in and out. Everything else is called `as` a person — with their
 * session token, which the gate puts first, and the workspace they work in — so the console
 * can do for a person exactly what the API would let them do there.
 */
export class ServiceCalls {
  readonly config: ConnectorServiceClient;
  readonly access: AccessServiceClient;
  readonly consoleUsers: ConsoleUserServiceClient;
  readonly storage: StorageServiceClient;
  readonly fetcher: FetcherServiceClient;
  readonly workspaces: WorkspaceServiceClient;
  readonly trigger: TriggerServiceClient;

  constructor(cfg: ConsoleConfig) {
    const auth = internalClientAuth(cfg.security);
    this.config = connect(ConnectorServiceClient, cfg.services.config, auth);
    this.access = connect(AccessServiceClient, cfg.services.config, auth);
    this.consoleUsers = connect(ConsoleUserServiceClient, cfg.services.config, auth);
    this.storage = connect(StorageServiceClient, cfg.services.storage, auth);
    this.fetcher = connect(FetcherServiceClient, cfg.services.fetcher, auth);
    this.workspaces = connect(WorkspaceServiceClient, cfg.services.config, auth);
    this.trigger = connect(TriggerServiceClient, cfg.services.trigger, auth);
  }

  /** A unary call with the console's own identity (sign-in, sign-out). */
  asConsole<Req, Res>(client: Client, method: Unary<Req, Res>, request: Req): Promise<Res> {
    return call(method, client, request, { deadlineMs: 10_000 });
  }

  /** A unary call made for a person, in their workspace. */
  as<Req, Res>(who: OnBehalf, client: Client, method: Unary<Req, Res>, request: Req, opts: CallOpts = {}): Promise<Res> {
    return call(method, client, request, { deadlineMs: 15_000, ...opts, metadata: { ...opts.metadata, authorization: `Bearer ${who.token}`, [WORKSPACE_HEADER]: who.workspace } });
  }

  /** Who holds a session token and what they may do in `workspace` ('' for their home workspace). */
  whoAmI(token: string, workspace: string): Promise<WhoAmIResponse> {
    const metadata: Record<string, string> = { authorization: `Bearer ${token}`, ...(workspace ? { [WORKSPACE_HEADER]: workspace } : {}) };
    return call(this.access.whoAmI, this.access, {}, { deadlineMs: 15_000, metadata });
  }

  /** A raw email's bytes as they arrive from storage, for a person in their workspace. */
  download(who: OnBehalf, emailId: string, signal: AbortSignal): AsyncIterable<Buffer> {
    const md = new Metadata();
    md.set('authorization', `Bearer ${who.token}`);
    md.set(WORKSPACE_HEADER, who.workspace);
    const stream = this.storage.downloadRawEmail({ emailId }, md);
    signal.addEventListener('abort', () => stream.cancel(), { once: true });
    return (async function* () {
      try {
        for await (const chunk of stream as AsyncIterable<{ data: Uint8Array }>) yield Buffer.from(chunk.data.buffer, chunk.data.byteOffset, chunk.data.byteLength);
      } catch (err) {
        throw fromGrpcError(err as Parameters<typeof fromGrpcError>[0]);
      }
    })();
  }

  close(): void {
    for (const c of [this.config, this.access, this.consoleUsers, this.storage, this.fetcher, this.workspaces]) c.close();
  }
}
