import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { fromGrpcError } from '@postbote/grpc-runtime';
import type { StorageServiceClient, StoreEmailHeader, StoreEmailResponse } from '@postbote/proto';

const PIECE = 256 * 1024;

/**
 * Client side of StoreEmail: the header, then the raw bytes in pieces. Resolves only
 * after the server confirmed a durable commit (or a duplicate): only then may a
 * fetcher mark, delete or move the message on its server.
 */
export function storeEmail(
  client: StorageServiceClient,
  header: StoreEmailHeader,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  deadlineMs = 300_000,
): Promise<StoreEmailResponse> {
  return new Promise<StoreEmailResponse>((resolve, reject) => {
    const call = client.storeEmail(new Metadata(), { deadline: Date.now() + deadlineMs }, (err: ServiceError | null, res: StoreEmailResponse) =>
      err ? reject(fromGrpcError(err)) : resolve(res),
    );
    const write = (msg: Parameters<typeof call.write>[0]) =>
      new Promise<void>((ok) => {
        if (call.write(msg)) ok();
        else call.once('drain', () => ok());
      });
    (async () => {
      await write({ part: { $case: 'header', value: header } });
      for await (const piece of body) {
        for (let off = 0; off < piece.length; off += PIECE) await write({ part: { $case: 'data', value: Buffer.from(piece.buffer, piece.byteOffset + off, Math.min(PIECE, piece.length - off)) } });
      }
      call.end();
    })().catch((err: unknown) => {
      call.cancel();
      reject(err);
    });
  });
}
