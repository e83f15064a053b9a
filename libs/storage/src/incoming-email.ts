import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export const SPOOL_SUFFIX = '.eml.part';

export interface IncomingLimits {
  /** Where bytes beyond `memoryBytes` go (scratch files; swept at start-up). */
  readonly spoolDir: string;
  /** Kept in memory up to this size: most mail never touches the disk. */
  readonly memoryBytes: number;
  /** Larger emails are refused (TOO_LARGE); their bytes are dropped as they come. */
  readonly maxBytes: number;
}

/**
 * Whether an email's SHA-256 is measured as its bytes arrive, or the sender's is taken:
 * 'sender' only where no transport lies between the two (the all-in-one's in-process
 * stream hands storage the very Buffers the fetcher hashed; decision 0037).
 */
export type HashSource = 'measured' | 'sender';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The bytes of one email while it arrives, with their size and SHA-256. Small emails
 * stay in memory; past `memoryBytes` everything spills to a scratch file. The file is
 * never synced: durability comes from the database commit, which copies the bytes.
 */
export class IncomingEmail {
  #parts: Buffer[] = [];
  #size = 0;
  readonly #hash: Hash | undefined;
  #file: FileHandle | undefined;
  #path: string | undefined;
  #tooLarge = false;
  #sha256: string | undefined;

  constructor(
    private readonly limits: IncomingLimits,
    hashes: HashSource = 'measured',
  ) {
    this.#hash = hashes === 'measured' ? createHash('sha256') : undefined;
  }

  get size(): number {
    return this.#size;
  }

  /** True once more than the limit arrived; the bytes are no longer kept. */
  get tooLarge(): boolean {
    return this.#tooLarge;
  }

  /** Bytes held in memory (what a pipeline must count against its budget). */
  get memoryBytes(): number {
    return this.#path ? 0 : this.#size;
  }

  async append(piece: Buffer): Promise<void> {
    this.#size += piece.length;
    if (this.#tooLarge) return;
    if (this.#size > this.limits.maxBytes) {
      this.#tooLarge = true;
      await this.discard();
      return;
    }
    this.#hash?.update(piece);
    if (this.#path) {
      await this.#file?.write(piece);
      return;
    }
    this.#parts.push(piece);
    if (this.#size > this.limits.memoryBytes) await this.#spill();
  }

  /**
   * Ends the email: its SHA-256 (lower-case hex) — measured, or the sender's `claimed` one
   * when the hash source is 'sender' ('' if that is no SHA-256, so it matches nothing).
   */
  finish(claimed = ''): string {
    this.#sha256 ??= this.#hash ? this.#hash.digest('hex') : SHA256_HEX.test(claimed.toLowerCase()) ? claimed.toLowerCase() : '';
    return this.#sha256;
  }

  /**
   * The whole email in memory, or undefined when it was spilled to a file. The bytes live in
   * a SharedArrayBuffer: the parser and SQLite writer threads then read them where they are,
   * where a plain Buffer would be serialized into a copy for each (a sixth of the event
   * loop's time in a drain).
   */
  inMemory(): Buffer | undefined {
    if (this.#path || this.#tooLarge) return undefined;
    const [only] = this.#parts;
    if (this.#parts.length !== 1 || !(only?.buffer instanceof SharedArrayBuffer)) {
      const shared = sharedBytes(this.#size);
      let at = 0;
      for (const part of this.#parts) at += part.copy(shared, at);
      this.#parts = [shared];
    }
    return this.#parts[0];
  }

  /** Reads the bytes in pieces of at most `pieceBytes`. */
  async *read(pieceBytes: number): AsyncGenerator<Buffer> {
    const whole = this.inMemory();
    if (whole) {
      for (let off = 0; off < whole.length; off += pieceBytes) yield whole.subarray(off, off + pieceBytes);
      return;
    }
    if (!this.#path) return;
    yield* createReadStream(this.#path, { highWaterMark: pieceBytes }) as AsyncIterable<Buffer>;
  }

  /** The scratch file's path, when the email was spilled. */
  get path(): string | undefined {
    return this.#path;
  }

  async discard(): Promise<void> {
    this.#parts = [];
    const file = this.#file;
    const path = this.#path;
    this.#file = undefined;
    this.#path = undefined;
    if (file) await file.close().catch(() => undefined);
    if (path) await rm(path, { force: true });
  }

  async #spill(): Promise<void> {
    await mkdir(this.limits.spoolDir, { recursive: true, mode: 0o700 });
    const path = join(this.limits.spoolDir, `${randomUUID()}${SPOOL_SUFFIX}`);
    const file = await open(path, 'wx', 0o600);
    this.#path = path;
    this.#file = file;
    for (const p of this.#parts) await file.write(p);
    this.#parts = [];
  }

  /** The scratch file is complete; reading may begin. */
  async seal(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    if (file) await file.close();
  }
}

/** Emails up to this size share slabs of SLAB_BYTES; a larger one gets a SharedArrayBuffer of its own. */
const SHARED_UP_TO = 128 * 1024;
const SLAB_BYTES = 1024 * 1024;
let slab: SharedArrayBuffer | undefined;
let slabUsed = 0;

/**
 * `size` bytes of shared memory for one email. A SharedArrayBuffer per email cost more than
 * copying the email into it (allocation, zeroing, the collector's external-memory accounting:
 * ~0.04 ms per email in a drain's profile), so small emails are cut from a slab, one after
 * the other and never reused: a slab is freed by the collector once no email cut from it is
 * referenced any more — at worst one email keeps a slab of SLAB_BYTES alive.
 */
function sharedBytes(size: number): Buffer {
  if (size > SHARED_UP_TO) return Buffer.from(new SharedArrayBuffer(size));
  if (!slab || slabUsed + size > SLAB_BYTES) {
    slab = new SharedArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const bytes = Buffer.from(slab, slabUsed, size);
  // 8-byte aligned starts: readers may view the bytes through any typed array.
  slabUsed += (size + 7) & ~7;
  return bytes;
}

/**
 * Removes scratch files left by a process killed mid-upload. Runs at start-up, before
 * the service accepts stores, so no file in use can be removed.
 */
export async function sweepSpool(spoolDir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(spoolDir);
  } catch {
    return 0;
  }
  const leftovers = names.filter((n) => n.endsWith(SPOOL_SUFFIX));
  await Promise.all(leftovers.map((n) => rm(join(spoolDir, n), { force: true })));
  return leftovers.length;
}
