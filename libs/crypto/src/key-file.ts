import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import { KEY_BYTES, Keyring } from './keyring';

/**
 * The embedded default's master keys: a file of `id:base64key` lines, mode 0600,
 * created on first start. The last line is the active key; rotation appends.
 * Production deployments pass keys through POSTBOTE_MASTER_KEYS(_FILE) instead.
 */
export class KeyFile {
  #ring: Keyring;

  private constructor(
    readonly path: string,
    ring: Keyring,
    private readonly now: () => Date,
  ) {
    this.#ring = ring;
  }

  static openOrCreate(path: string, now: () => Date = () => new Date()): { keyFile: KeyFile; created: boolean } {
    if (existsSync(path)) {
      // Tighten a file that someone loosened; the keys are only as safe as this mode.
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
      return { keyFile: new KeyFile(path, Keyring.parse(readFileSync(path, 'utf8')), now), created: false };
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const id = keyIdFor(now());
    const key = randomBytes(KEY_BYTES);
    writeExclusive(path, `${id}:${key.toString('base64')}\n`);
    return { keyFile: new KeyFile(path, new Keyring(new Map([[id, key]]), id), now), created: true };
  }

  get keyring(): Keyring {
    return this.#ring;
  }

  /**
   * Generates a new key, persists it (atomically, 0600) and makes it active. The new file is
   * written beside the old one under a name no earlier run can have left (a process killed
   * here leaves a stray temporary file, never a half-written key file), flushed, and renamed
   * over it; the directory is flushed so the rename survives a power cut too.
   */
  addKey(): string {
    let id = keyIdFor(this.now());
    while (this.#ring.keyIds.includes(id)) id = `${id}-${randomBytes(2).toString('hex')}`;
    const key = randomBytes(KEY_BYTES);
    const next = this.#ring.withActive(id, key);
    const body = readFileSync(this.path, 'utf8').replace(/\n?$/, '\n') + `${id}:${key.toString('base64')}\n`;
    const tmp = `${this.path}.tmp-${randomBytes(6).toString('hex')}`;
    writeExclusive(tmp, body);
    renameSync(tmp, this.path);
    syncDirectory(dirname(this.path));
    this.#ring = next;
    return id;
  }
}

function keyIdFor(date: Date): string {
  return `k${date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
}

function writeExclusive(path: string, body: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, body);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
