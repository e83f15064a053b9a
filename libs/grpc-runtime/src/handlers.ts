import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  Metadata,
  status,
  type handleBidiStreamingCall,
  type handleClientStreamingCall,
  type handleServerStreamingCall,
  type handleUnaryCall,
  type ServerDuplexStream,
  type ServerReadableStream,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type StatusObject,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Principal, Scope } from '@postbote/auth';
import { InternalError, PostboteError, ValidationError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import type { Admitted, Gate } from './gate';
import { toGrpcStatus } from './status';
import { grpcMetrics } from '@postbote/metrics';
import { watchCredentials, type StreamWatch } from './stream-watch';

/** What a handler sees of its call: who calls, where it acts, from where, the metadata and a signal that fires on cancel. */
export interface CallContext {
  readonly principal: Principal;
  /** The workspace the call acts in (every workspace for Postbote's own services): the gate's decision. */
  readonly scope: Scope;
  /** The caller's host:port. */
  readonly peer: string;
  readonly metadata: Metadata;
  readonly signal: AbortSignal;
}

/** The gate's verdict per call, for the handler adapters below (no handler runs ungated). */
const admitted = new WeakMap<object, Admitted>();
/** A streaming call's abort, fired when the caller cancels or its credentials lapse. */
const aborts = new WeakMap<object, AbortController>();
/** Streaming calls the credentials watch has ended: their status is sent already. */
const lapsed = new WeakSet<object>();

interface AnyCall {
  metadata: Metadata;
  cancelled?: boolean;
  getPeer(): string;
  getAuthContext?(): { sslPeerCertificate?: { subject?: { CN?: string | string[] } } } | null;
  on(event: 'cancelled' | 'finish' | 'close', l: () => void): unknown;
  emit(event: 'error', s: Partial<StatusObject>): boolean;
}

/**
 * Wraps every method of a service so the gate decides before the implementation runs.
 * A refused call ends with the gate's status; a streaming call's messages wait in its
 * buffer meanwhile. A streaming call stays under watch while it is open: when its
 * credentials lapse it ends with UNAUTHENTICATED and its handler is aborted.
 */
export function gated(definition: ServiceDefinition, implementation: UntypedServiceImplementation, gate: Gate, logger: Logger, watch: StreamWatch): UntypedServiceImplementation {
  const wrapped: Record<string, (call: AnyCall, callback?: (s: Partial<StatusObject> | null) => void) => void> = {};
  for (const [name, method] of Object.entries(definition)) {
    const original = (implementation as Record<string, unknown>)[name] as ((call: AnyCall, callback?: unknown) => void) | undefined;
    if (typeof original !== 'function') continue;
    wrapped[name] = (call, callback) => {
      started.set(call, { method: method.path, t0: performance.now() });
      const cn = call.getAuthContext?.()?.sslPeerCertificate?.subject?.CN;
      const decide = () => gate({ method: method.path, metadata: call.metadata, peer: call.getPeer(), certificateName: Array.isArray(cn) ? undefined : cn });
      run(decide).then(
        (verdict) => {
          admitted.set(call, verdict);
          if (method.responseStream) {
            const abort = new AbortController();
            aborts.set(call, abort);
            watchCredentials(call, verdict, decide, watch, logger, method.path, (err) => {
              lapsed.add(call);
              deliver(logger, method.path, call, (st) => call.emit('error', st), report(logger, method.path, err));
              abort.abort();
            });
          }
          original.call(implementation, call, callback);
        },
        (err: unknown) => {
          const s = report(logger, method.path, err);
          deliver(logger, method.path, call, (st) => (callback ? callback(st) : call.emit('error', st)), s);
        },
      );
    };
  }
  return wrapped as UntypedServiceImplementation;
}

/**
 * A request grpc-js could not decode (a uint64 above 2^53, a truncated field…). The
 * server's deserializers return this instead of throwing (see `guardDecoding`), so the
 * caller gets INVALID_ARGUMENT naming the problem rather than a bare INTERNAL.
 */
export class UndecodableRequest {
  constructor(readonly error: ValidationError) {}
}

function contextOf(call: AnyCall): CallContext {
  const verdict = admitted.get(call);
  // Unreachable through startGrpcServer; refuse rather than run a handler for nobody.
  if (!verdict) throw new InternalError('call reached a handler without passing the gate');
  const ac = aborts.get(call) ?? new AbortController();
  call.on('cancelled', () => ac.abort());
  // Cancelled while the gate was deciding: the event has already fired.
  if (call.cancelled) ac.abort();
  return { principal: verdict.principal, scope: verdict.scope, peer: call.getPeer(), metadata: call.metadata, signal: ac.signal };
}

function report(logger: Logger, method: string, err: unknown): Partial<StatusObject> {
  const reference = randomUUID().slice(0, 8);
  if (err instanceof PostboteError && err.code !== 'INTERNAL') {
    logger.info({ method, code: err.code, reason: err.reason, err: { message: err.message.slice(0, 500) } }, 'call rejected');
  } else {
    logger.error({ method, reference, err }, 'call failed');
  }
  try {
    return toGrpcStatus(err, reference);
  } catch (mapErr) {
    logger.error({ method, reference, err: mapErr }, 'could not map an error to a status');
    return { code: status.INTERNAL, details: `internal error (reference ${reference})`, metadata: new Metadata() };
  }
}

/**
 * Delivers a status; if grpc-js refuses it (it throws on metadata it cannot send), a
 * plain INTERNAL goes instead. Nothing a handler does may take the process down.
 */
function deliver(logger: Logger, method: string, call: object, send: (s: Partial<StatusObject>) => void, s: Partial<StatusObject>): void {
  observe(call, s.code ?? status.OK);
  try {
    send(s);
  } catch (err) {
    logger.error({ method, err }, 'could not send a status; sending a plain INTERNAL');
    try {
      send({ code: status.INTERNAL, details: 'internal error', metadata: new Metadata() });
    } catch {
      // The call is beyond reach (already closed); nothing left to tell the client.
    }
  }
}

/** Each call's full method path and when it entered the gate. */
const started = new WeakMap<object, { readonly method: string; readonly t0: number }>();

/**
 * Counts one answered call — the one place for gRPC request metrics, labelled with the
 * full method path the gate saw (handlers name methods more briefly); a call counts once.
 */
function observe(call: object, code: status): void {
  const entry = started.get(call);
  if (entry === undefined) return;
  started.delete(call);
  grpcMetrics.requests.inc({ method: entry.method, code: status[code] ?? String(code) });
  grpcMetrics.seconds.observe({ method: entry.method }, (performance.now() - entry.t0) / 1000);
}

const run = <T>(fn: () => Promise<T>): Promise<T> => Promise.resolve().then(fn);

/**
 * Yields the requests of a streaming call, failing on one the server could not decode.
 * A plain `for await` over a Readable destroys the stream when it ends — for a duplex
 * call that is the response side too, and the responses still to come (StoreEmails'
 * acks after the client half-closed) would be lost. So the iterator keeps it alive.
 */
async function* decoded<Req>(call: Readable): AsyncGenerator<Req> {
  for await (const r of call.iterator({ destroyOnReturn: false }) as AsyncIterable<Req | UndecodableRequest>) {
    if (r instanceof UndecodableRequest) throw r.error;
    yield r;
  }
}

/** Adapts an async function to a unary handler, mapping errors in one place. */
export function unary<Req, Res>(logger: Logger, method: string, fn: (req: Req, ctx: CallContext) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback) => {
    const fail = (err: unknown) => deliver(logger, method, call, (s) => callback(s), report(logger, method, err));
    const req = call.request as Req | UndecodableRequest;
    if (req instanceof UndecodableRequest) return fail(req.error);
    run(() => fn(req, contextOf(call))).then(
      (res) => deliver(logger, method, call, () => callback(null, res), {}),
      fail,
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
    const ctx = streamContext(logger, method, call);
    if (!ctx) return;
    const fail = (err: unknown) => {
      if (ctx.signal.aborted) return observe(call, status.CANCELLED);
      deliver(logger, method, call, (s) => call.emit('error', s), report(logger, method, err));
    };
    const req = call.request as Req | UndecodableRequest;
    if (req instanceof UndecodableRequest) return fail(req.error);
    run(() => fn(req, sender(call, ctx.signal), ctx)).then(() => {
      if (lapsed.has(call)) return;
      observe(call, status.OK);
      call.end();
    }, fail);
  };
}

/** Client streaming: `fn` consumes the request stream as an async iterable. */
export function clientStream<Req, Res>(
  logger: Logger,
  method: string,
  fn: (requests: AsyncIterable<Req>, ctx: CallContext) => Promise<Res>,
): handleClientStreamingCall<Req, Res> {
  return (call: ServerReadableStream<Req, Res>, callback) => {
    run(() => fn(decoded<Req>(call), contextOf(call))).then(
      (res) => deliver(logger, method, call, () => callback(null, res), {}),
      (err: unknown) => deliver(logger, method, call, (s) => callback(s), report(logger, method, err)),
    );
  };
}

/**
 * Bidirectional streaming: `fn` reads the requests and writes responses through `send`;
 * the call ends with OK when `fn` returns, or with the status of what it threw.
 */
export function bidiStream<Req, Res>(
  logger: Logger,
  method: string,
  fn: (requests: AsyncIterable<Req>, send: (res: Res) => Promise<void>, ctx: CallContext) => Promise<void>,
): handleBidiStreamingCall<Req, Res> {
  return (call: ServerDuplexStream<Req, Res>) => {
    const ctx = streamContext(logger, method, call);
    if (!ctx) return;
    run(() => fn(decoded<Req>(call), sender(call, ctx.signal), ctx)).then(
      () => {
        if (lapsed.has(call)) return;
        observe(call, status.OK);
        call.end();
      },
      (err: unknown) => {
        if (ctx.signal.aborted) return observe(call, status.CANCELLED);
        deliver(logger, method, call, (s) => call.emit('error', s), report(logger, method, err));
      },
    );
  };
}

/** A streaming call's context, or null after ending the call with the error that prevented one. */
function streamContext(logger: Logger, method: string, call: AnyCall): CallContext | null {
  try {
    return contextOf(call);
  } catch (err) {
    deliver(logger, method, call, (s) => call.emit('error', s), report(logger, method, err));
    return null;
  }
}

/** Writes with backpressure; rejects once the call is cancelled, so a handler never waits forever. */
function sender<Res>(call: { write(res: Res): boolean; once(event: 'drain', l: () => void): unknown; removeListener(event: 'drain', l: () => void): unknown }, signal: AbortSignal): (res: Res) => Promise<void> {
  const cancelled = () => new Error('call cancelled by the client');
  return (res: Res) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(cancelled());
      if (call.write(res)) return resolve();
      const onAbort = () => {
        call.removeListener('drain', onDrain);
        reject(cancelled());
      };
      const onDrain = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      call.once('drain', onDrain);
      signal.addEventListener('abort', onAbort, { once: true });
    });
}
