import { randomUUID } from 'node:crypto';
import type {
  handleClientStreamingCall,
  handleServerStreamingCall,
  handleUnaryCall,
  Metadata,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
} from '@grpc/grpc-js';
import { PostboteError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import { toGrpcStatus } from './status';

/** What a handler sees of its call: the metadata and a signal that fires on cancel. */
export interface CallContext {
  readonly metadata: Metadata;
  readonly signal: AbortSignal;
}

function contextOf(call: { metadata: Metadata; on(event: 'cancelled', l: () => void): unknown }): CallContext {
  const ac = new AbortController();
  call.on('cancelled', () => ac.abort());
  return { metadata: call.metadata, signal: ac.signal };
}

function report(logger: Logger, method: string, err: unknown) {
  const reference = randomUUID().slice(0, 8);
  if (err instanceof PostboteError && err.code !== 'INTERNAL') {
    logger.info({ method, code: err.code, err: { message: err.message } }, 'call rejected');
  } else {
    logger.error({ method, reference, err }, 'call failed');
  }
  return toGrpcStatus(err, reference);
}

/** Adapts an async function to a unary handler, mapping errors in one place. */
export function unary<Req, Res>(logger: Logger, method: string, fn: (req: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback) => {
    fn(call.request, contextOf(call)).then(
      (res) => callback(null, res),
      (err: unknown) => callback(report(logger, method, err)),
    );
  };
}

/** Server streaming: `fn` writes through `send` (awaiting backpressure) and returns when done. */
export function serverStream<Req, Res>(
  logger: Logger,
  method: string,
  fn: (req: Req, send: (res: Res) => Promise<void>, ctx: CallContext) => Promise<void>,
): handleServerStreamingCall<Req, Res> {
  return (call: ServerWritableStream<Req, Res>) => {
    const ctx = contextOf(call);
    const send = (res: Res) =>
      new Promise<void>((resolve) => {
        if (call.write(res)) resolve();
        else call.once('drain', () => resolve());
      });
    fn(call.request, send, ctx).then(
      () => call.end(),
      (err: unknown) => {
        if (ctx.signal.aborted) return;
        call.emit('error', report(logger, method, err));
      },
    );
  };
}

/** Client streaming: `fn` consumes the request stream as an async iterable. */
export function clientStream<Req, Res>(
  logger: Logger,
  method: string,
  fn: (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>,
): handleClientStreamingCall<Req, Res> {
  return (call: ServerReadableStream<Req, Res>, callback) => {
    fn(call as AsyncIterable<Req>, contextOf(call)).then(
      (res) => callback(null, res),
      (err: unknown) => callback(report(logger, method, err)),
    );
  };
}
