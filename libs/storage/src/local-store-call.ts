import { EventEmitter } from 'node:events';
import { InternalError, PostboteError, TimeoutError, UnavailableError } from '@postbote/errors';
import type { StoreEmailsRequest, StoreEmailsResponse } from '@postbote/proto';
import type { OpenStoreEmails, StoreEmailsCall } from '@postbote/service-clients';

/** Requests written but not yet read before `write` says "wait for drain". */
const HIGH_WATER = 64;

/** How the storage service serves one StoreEmails stream (serveStoreStream, bound to its store). */
export type ServeStoreEmails = (requests: AsyncIterable<StoreEmailsRequest>, send: (res: StoreEmailsResponse) => Promise<void>) => Promise<void>;

/**
 * StoreEmails inside one process (the all-in-one): the fetcher's stream reaches the
 * storage service's handler directly — the same messages, the same protocol code, the same
 * acks after commit — without loopback HTTP/2 and a protobuf encode and decode of every
 * email on the one event loop both services share. Requests queue with backpressure
 * ('drain'), a deadline cancels like gRPC's, and failures arrive as the typed errors the
 * handler threw.
 */
export function localStoreEmails(serve: ServeStoreEmails): OpenStoreEmails {
  return (_metadata, options) => new LocalStoreCall(serve, options.deadline);
}

class LocalStoreCall extends EventEmitter implements StoreEmailsCall {
  readonly #queue: StoreEmailsRequest[] = [];
  #ended = false;
  #failure: PostboteError | undefined;
  #wake: (() => void) | undefined;
  #finished = false;
  readonly #timer: NodeJS.Timeout;

  constructor(serve: ServeStoreEmails, deadline: number) {
    super();
    this.#timer = setTimeout(() => this.#stop(new TimeoutError('StoreEmails deadline exceeded')), Math.max(0, deadline - Date.now()));
    this.#timer.unref();
    const send = async (res: StoreEmailsResponse) => {
      if (this.#failure) throw this.#failure;
      this.emit('data', res);
    };
    serve(this.#requests(), send).then(
      () => this.#finish(() => this.emit('end')),
      (err: unknown) => {
        const e = err instanceof PostboteError ? err : new InternalError('the storage service failed on a StoreEmails stream', { cause: err });
        this.#finish(() => this.emit('error', e));
      },
    );
  }

  write(message: StoreEmailsRequest): boolean {
    if (this.#ended || this.#failure) return true;
    this.#queue.push(message);
    this.#wake?.();
    return this.#queue.length < HIGH_WATER;
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  cancel(): void {
    this.#stop(new UnavailableError('StoreEmails cancelled by the client', { reason: 'CANCELLED' }));
  }

  #stop(err: PostboteError): void {
    if (this.#finished || this.#failure) return;
    this.#failure = err;
    this.#wake?.();
    this.#finish(() => this.emit('error', err));
  }

  #finish(report: () => void): void {
    if (this.#finished) return;
    this.#finished = true;
    clearTimeout(this.#timer);
    // Listeners expect the events of a stream: never synchronously inside write() or cancel().
    setImmediate(report);
  }

  async *#requests(): AsyncGenerator<StoreEmailsRequest> {
    for (;;) {
      if (this.#failure) throw this.#failure;
      const next = this.#queue.shift();
      if (next) {
        if (this.#queue.length === HIGH_WATER - 1) this.emit('drain');
        yield next;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}
