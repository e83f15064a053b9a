import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { ValidationError } from '@postbote/errors';

/** An incoming message written to a temporary file, with its hash and size. */
export interface Spooled {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  /** Reads the spooled bytes in pieces of at most `chunkBytes`. */
  read(chunkBytes: number): AsyncIterable<Buffer>;
  remove(): Promise<void>;
}

/**
 * Spools a byte stream to disk so a 50 MB message costs a few buffers of memory, not
 * 50 MB per concurrent store. Enforces the size cap while reading, so an oversized
 * upload is refused before it fills the disk.
 */
export async function spool(dir: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Spooled> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${randomUUID()}.eml.part`);
  const file = await open(path, 'wx', 0o600);
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const piece of body) {
      size += piece.length;
      if (size > maxBytes) throw ValidationError.single('data', 'max-size', `message exceeds the storage limit of ${maxBytes} bytes`);
      hash.update(piece);
      await file.write(piece);
    }
    await file.sync();
  } catch (err) {
    await file.close();
    await rm(path, { force: true });
    throw err;
  }
  await file.close();
  return {
    path,
    sha256: hash.digest('hex'),
    size,
    read: (chunkBytes: number) => createReadStream(path, { highWaterMark: chunkBytes }) as AsyncIterable<Buffer>,
    remove: () => rm(path, { force: true }),
  };
}

/** Regroups a stream's pieces into chunks of exactly `size` bytes (the last may be shorter). */
export async function* rechunk(source: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const piece of source) {
    let offset = 0;
    while (offset < piece.length) {
      const take = Math.min(size - length, piece.length - offset);
      parts.push(piece.subarray(offset, offset + take));
      length += take;
      offset += take;
      if (length === size) {
        yield Buffer.concat(parts, length);
        parts = [];
        length = 0;
      }
    }
  }
  if (length > 0) yield Buffer.concat(parts, length);
}
