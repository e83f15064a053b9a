import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { InternalError } from '@postbote/errors';
import type { Keyring } from './keyring';
import { Secret } from './secret';

/** What is stored beside a row: the key id and version-tagged ciphertext. */
export interface SealedSecret {
  readonly keyId: string;
  /** `v1.` + base64(iv[12] | tag[16] | ciphertext) */
  readonly ciphertext: string;
}

const VERSION = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM with the owner's identity as associated data, so a ciphertext copied
 * onto another connector's row fails authentication instead of decrypting there.
 */
export class SecretBox {
  constructor(private readonly keyring: () => Keyring) {}

  seal(secret: Secret, associatedData: string): SealedSecret {
    const ring = this.keyring();
    const keyId = ring.activeKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', ring.key(keyId), iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(secret.reveal(), 'utf8'), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]);
    return { keyId, ciphertext: VERSION + sealed.toString('base64') };
  }

  open(sealed: SealedSecret, associatedData: string): Secret {
    // Resolve the key first: "key not configured" is the actionable error after a bad rotation.
    const key = this.keyring().key(sealed.keyId);
    if (!sealed.ciphertext.startsWith(VERSION)) {
      throw new InternalError(`unknown ciphertext format for key "${sealed.keyId}"`);
    }
    const raw = Buffer.from(sealed.ciphertext.slice(VERSION.length), 'base64');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new InternalError('ciphertext is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      return new Secret(plain.toString('utf8'));
    } catch (err) {
      throw new InternalError(`stored secret failed authentication under key "${sealed.keyId}"`, { cause: err });
    }
  }

  /** True when the secret is sealed under a key other than the active one. */
  needsRotation(sealed: SealedSecret): boolean {
    return sealed.keyId !== this.keyring().activeKeyId;
  }
}
