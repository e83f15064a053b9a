import { PreconditionError } from '@postbote/errors';

export const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Master keys by id. Ciphertexts store the id of the key that sealed them, so old
 * keys stay usable for decryption while `active` seals everything new; rotation
 * re-seals old ciphertexts under the active key, after which old keys can go.
 */
export class Keyring {
  readonly #keys: Map<string, Buffer>;
  #active: string;

  constructor(keys: ReadonlyMap<string, Buffer>, active: string) {
    for (const [id, key] of keys) {
      if (!KEY_ID.test(id)) throw new Error(`invalid key id "${id}": use 1-64 of A-Z a-z 0-9 . _ -`);
      if (key.length !== KEY_BYTES) throw new Error(`key "${id}" must be ${KEY_BYTES} bytes (base64 of 32 random bytes)`);
    }
    if (!keys.has(active)) throw new Error(`active key id "${active}" is not among the configured keys`);
    this.#keys = new Map(keys);
    this.#active = active;
  }

  /**
   * Parses `id:base64key` entries separated by commas or newlines; the active key
   * is `activeId` or, when absent, the last entry.
   */
  static parse(spec: string, activeId?: string): Keyring {
    const keys = new Map<string, Buffer>();
    let last: string | undefined;
    for (const entry of spec.split(/[,\n]/).map((s) => s.trim())) {
      if (entry === '' || entry.startsWith('#')) continue;
      const sep = entry.indexOf(':');
      if (sep <= 0) throw new Error('each key must be written as id:base64key');
      const id = entry.slice(0, sep);
      if (keys.has(id)) throw new Error(`key id "${id}" appears twice`);
      keys.set(id, Buffer.from(entry.slice(sep + 1), 'base64'));
      last = id;
    }
    if (last === undefined) throw new Error('no keys given');
    return new Keyring(keys, activeId ?? last);
  }

  get activeKeyId(): string {
    return this.#active;
  }

  get keyIds(): string[] {
    return [...this.#keys.keys()];
  }

  key(id: string): Buffer {
    const key = this.#keys.get(id);
    if (!key) {
      throw new PreconditionError(
        `master key "${id}" is not configured; add it to the keyring (it sealed stored secrets) or re-enter those passwords`,
      );
    }
    return key;
  }

  /** Adds a key and makes it active (used by the embedded key file on rotation). */
  withActive(id: string, key: Buffer): Keyring {
    const keys = new Map(this.#keys);
    keys.set(id, key);
    return new Keyring(keys, id);
  }
}
