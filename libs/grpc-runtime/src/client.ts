import { InterceptingCall, Metadata, type CallOptions, type ChannelOptions, type Client, type ClientUnaryCall, type Interceptor, type ServiceError } from '@grpc/grpc-js';
import type { Secret } from '@postbote/crypto';
import { AUTHORIZATION_HEADER, INTERNAL_TOKEN_HEADER, WORKSPACE_HEADER } from './gate';
import { fromGrpcError } from './status';
import { channelCredentials, type Transport } from './transport';

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (err: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

export interface CallOpts {
  readonly deadlineMs?: number;
  readonly metadata?: Record<string, string>;
  readonly signal?: AbortSignal;
}

/** Calls a unary method as a promise; failures arrive as typed Postbote errors. */
export function call<Req, Res>(method: UnaryMethod<Req, Res>, client: Client, request: Req, opts: CallOpts = {}): Promise<Res> {
  const md = new Metadata();
  for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
  return new Promise<Res>((resolve, reject) => {
    const c = method.call(client, request, md, { deadline: Date.now() + (opts.deadlineMs ?? 30_000) }, (err, res) => {
      if (err) reject(fromGrpcError(err));
      else resolve(res);
    });
    opts.signal?.addEventListener('abort', () => c.cancel(), { once: true });
  });
}

/**
 * How a client proves who it is: an API token (people, outside systems), the internal
 * token (Postbote's services without mutual TLS), or neither (its TLS client certificate
 * speaks for it).
 */
export type ClientIdentity = { readonly token: Secret } | { readonly internalToken: Secret } | { readonly certificate: true };

export interface ClientAuth {
  readonly transport: Transport;
  readonly identity: ClientIdentity;
  /** The workspace the calls act in (x-postbote-workspace); unset: the caller's home workspace. */
  readonly workspace?: string | undefined;
}

type ClientConstructor<C> = new (address: string, credentials: ReturnType<typeof channelCredentials>, options?: ChannelOptions) => C;

/**
 * A client of one of our services: TLS as the transport says, and the caller's
 * credentials on every call. Credentials go in metadata by an interceptor, the same way
 * over TLS and over loopback plaintext (gRPC refuses call credentials on the latter).
 */
export function connect<C extends Client>(Ctor: ClientConstructor<C>, address: string, auth: ClientAuth, options: ChannelOptions = {}): C {
  const header = headerOf(auth.identity);
  const workspace = auth.workspace;
  const interceptors: Interceptor[] =
    header || workspace
      ? [
          (opts, next) =>
            new InterceptingCall(next(opts), {
              start: (metadata, listener, proceed) => {
                if (header) metadata.set(header.key, header.value.reveal());
                if (workspace && metadata.get(WORKSPACE_HEADER).length === 0) metadata.set(WORKSPACE_HEADER, workspace);
                proceed(metadata, listener);
              },
            }),
        ]
      : [];
  return new Ctor(address, channelCredentials(auth.transport, address), { ...options, interceptors });
}

function headerOf(identity: ClientIdentity): { key: string; value: { reveal(): string } } | null {
  if ('token' in identity) return { key: AUTHORIZATION_HEADER, value: { reveal: () => `Bearer ${identity.token.reveal()}` } };
  if ('internalToken' in identity) return { key: INTERNAL_TOKEN_HEADER, value: identity.internalToken };
  return null;
}
