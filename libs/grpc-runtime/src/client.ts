import { Metadata, type CallOptions, type ClientUnaryCall, type ServiceError, type Client } from '@grpc/grpc-js';
import { fromGrpcError } from './status';

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
