import { createHash } from 'node:crypto';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { InternalError, PostboteError, UnavailableError } from '@postbote/errors';
import { fromGrpcError } from '@postbote/grpc-runtime';
import type { EmailRefused, SourceCoordinates, StorageServiceClient, StoredEmail, StoreEmailsRequest, StoreEmailsResponse, StoreSession } from '@postbote/proto';

/** Bytes per data message: well under every gRPC message limit. */
const PIECE = 1024 * 1024;

export interface EmailToStore {
  readonly source: SourceCoordinates;
  readonly occurrence: string;
  readonly receivedAt: Date;
  /** What the mail server announced for this transfer (an IMAP literal's length), if anything. */
  readonly announcedSize?: number | undefined;
  /** The whole email, or its bytes as they arrive from the mail server. */
  readonly content: Uint8Array | AsyncIterable<Uint8Array>;
}

/** The storage service's answer for one email, after its commit. */
export type StoreAck = { readonly stored: StoredEmail } | { readonly refused: EmailRefused };

export interface StoreStreamOptions {
  readonly deadlineMs: number;
  readonly metadata?: Record<string, string>;
}

/** The part of a StoreEmails call the client uses: a gRPC ClientDuplexStream has it, and so has an in-process call. */
export interface StoreEmailsCall {
  write(message: StoreEmailsRequest): boolean;
  end(): void;
  cancel(): void;
  on(event: 'data', listener: (res: StoreEmailsResponse) => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
}

/** Opens a StoreEmails call: over gRPC, or to a storage service in the same process (the all-in-one). */
export type OpenStoreEmails = (metadata: Metadata, options: { deadline: number }) => StoreEmailsCall;

/** StoreEmails over gRPC. */
export const grpcStoreEmails =
  (client: StorageServiceClient): OpenStoreEmails =>
  (metadata, options) =>
    client.storeEmails(metadata, options);

/** A call's failure as a typed error: gRPC statuses are mapped, an in-process call's errors are typed already. */
const typed = (err: unknown): PostboteError => (err instanceof PostboteError ? err : fromGrpcError(err as ServiceError));

interface Waiter {
  resolve(a: StoreAck): void;
  reject(e: unknown): void;
}

/**
 * Client side of StoreEmails: the emails of one poll on one stream. `send` writes
 * an email (begin, its bytes, then an end carrying the size and SHA-256 measured here)
 * and returns once the bytes are handed over, with `ack` settling after the server's
 * commit — so the next email can stream while earlier ones are committed. If an email's
 * content fails mid-way (the mail server cut the transfer), an abort goes instead of the
 * end and nothing of it is stored. A server-side action (mark read, delete, move) may
 * only follow a `stored` ack.
 */
export class StoreEmailsStream {
  readonly #call: StoreEmailsCall;
  readonly #waiting = new Map<number, Waiter>();
  #seq = 0;
  #failure: PostboteError | undefined;
  /** Woken when the last outstanding ack arrives or the stream fails. */
  #settled: Array<() => void> = [];
  /** Writers waiting for 'drain'; woken (to fail) if the stream fails first. */
  readonly #draining = new Set<() => void>();

  private constructor(open: OpenStoreEmails, session: StoreSession, options: StoreStreamOptions) {
    const md = new Metadata();
    for (const [k, v] of Object.entries(options.metadata ?? {})) md.set(k, v);
    this.#call = open(md, { deadline: Date.now() + options.deadlineMs });
    this.#call.on('data', (res: StoreEmailsResponse) => this.#acked(res));
    this.#call.on('error', (err: unknown) => this.#fail(typed(err)));
    // The server ends the stream after the last ack; an end with acks missing is a failure.
    this.#call.on('end', () => {
      if (this.#waiting.size > 0) this.#fail(new UnavailableError('the storage service ended the stream before acknowledging every email', { reason: 'STORAGE_UNAVAILABLE' }));
    });
    this.#call.write({ part: { $case: 'session', value: session } });
  }

  /** Opens a stream over gRPC (a StorageServiceClient) or through any other way to reach storage. */
  static open(target: StorageServiceClient | OpenStoreEmails, session: StoreSession, options: StoreStreamOptions): StoreEmailsStream {
    return new StoreEmailsStream(typeof target === 'function' ? target : grpcStoreEmails(target), session, options);
  }

  /** Writes one email; resolves when its bytes are handed over (see the class comment). */
  async send(email: EmailToStore): Promise<{ ack: Promise<StoreAck> }> {
    this.#throwIfFailed();
    const seq = ++this.#seq;
    const ack = new Promise<StoreAck>((resolve, reject) => this.#waiting.set(seq, { resolve, reject }));
    ack.catch(() => undefined);
    await this.#write({ part: { $case: 'begin', value: { seq, source: email.source, occurrence: email.occurrence, receivedAt: email.receivedAt, announcedSize: email.announcedSize } } });
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const piece of pieces(email.content)) {
        hash.update(piece);
        size += piece.length;
        await this.#write({ part: { $case: 'data', value: piece } });
      }
    } catch (err) {
      this.#waiting.delete(seq);
      if (!this.#failure) await this.#write({ part: { $case: 'abort', value: { seq, reason: String((err as Error)?.message ?? err).slice(0, 200) } } }).catch(() => undefined);
      throw err;
    }
    await this.#write({ part: { $case: 'end', value: { seq, size, sha256: hash.digest('hex') } } });
    return { ack };
  }

  /** Half-closes the stream and waits for every outstanding ack (each may have failed). */
  async finish(): Promise<void> {
    if (!this.#failure) this.#call.end();
    if (this.#waiting.size === 0) return;
    await new Promise<void>((resolve) => this.#settled.push(resolve));
  }

  /** Ends the stream at once: emails without an ack are not known to be stored. */
  cancel(): void {
    this.#call.cancel();
    this.#fail(new UnavailableError('store stream cancelled', { reason: 'CANCELLED' }));
  }

  #acked(res: StoreEmailsResponse): void {
    const w = this.#waiting.get(res.seq);
    if (!w) return;
    this.#waiting.delete(res.seq);
    const o = res.outcome;
    if (o?.$case === 'stored') w.resolve({ stored: o.value });
    else if (o?.$case === 'refused') w.resolve({ refused: o.value });
    else w.reject(new InternalError(`the storage service acknowledged email ${res.seq} without an outcome`));
    if (this.#waiting.size === 0) for (const f of this.#settled.splice(0)) f();
  }

  #fail(err: PostboteError): void {
    if (this.#failure) return;
    this.#failure = err;
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
    for (const f of this.#settled.splice(0)) f();
    for (const f of this.#draining) f();
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure;
  }

  #write(msg: StoreEmailsRequest): Promise<void> {
    this.#throwIfFailed();
    if (this.#call.write(msg)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        this.#call.removeListener('drain', done);
        this.#draining.delete(done);
        if (this.#failure) reject(this.#failure);
        else resolve();
      };
      this.#call.once('drain', done);
      this.#draining.add(done);
    });
  }
}

async function* pieces(content: Uint8Array | AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const split = function* (b: Uint8Array) {
    for (let off = 0; off < b.length; off += PIECE) yield Buffer.from(b.buffer, b.byteOffset + off, Math.min(PIECE, b.length - off));
  };
  if (content instanceof Uint8Array) {
    yield* split(content);
    return;
  }
  for await (const chunk of content) yield* split(chunk);
}

/** One email on a stream of its own (tools and tests); resolves with its ack. */
export async function storeOne(target: StorageServiceClient | OpenStoreEmails, session: StoreSession, email: EmailToStore, options: StoreStreamOptions = { deadlineMs: 60_000 }): Promise<StoreAck> {
  const stream = StoreEmailsStream.open(target, session, options);
  try {
    const { ack } = await stream.send(email);
    await stream.finish();
    return await ack;
  } catch (err) {
    stream.cancel();
    throw err;
  }
}
