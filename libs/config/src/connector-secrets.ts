import { SECRET_KEYS, applies, type ConnectorSettings, type SecretKey, type Secrets } from '@postbote/connector-model';
import { Secret, type SecretBox } from '@postbote/crypto';
import type { ConnectorRow } from './connector-entity';

type Extra = Exclude<SecretKey, 'password'>;
const EXTRA_KEYS = SECRET_KEYS.filter((k): k is Extra => k !== 'password');

/**
 * A connector's secrets on its row. The password keeps its own sealed column (as since the
 * first release); the others — OAuth2 client secret and refresh token — are sealed together
 * as one JSON value with the connector's id and "#secrets" as associated data, so neither
 * ciphertext decrypts on another row or in the other column. Which secrets are present is
 * stored in clear (`secret_keys`) so a listing never decrypts.
 */
export class ConnectorSecrets {
  constructor(private readonly box: SecretBox) {}

  /** Which secrets a row holds. */
  static stored(row: ConnectorRow): SecretKey[] {
    const extras = (row.secretKeys ?? '').split(',').filter((k): k is Extra => (EXTRA_KEYS as string[]).includes(k));
    return [...(row.passwordCiphertext !== '' ? (['password'] as const) : []), ...extras];
  }

  /**
   * Stores the given secrets on the row and drops those the settings no longer use (a
   * connector switched from PASSWORD to OAUTH2 keeps no password, and the reverse).
   */
  apply(row: ConnectorRow, given: Secrets, settings: ConnectorSettings): void {
    if (given.password && applies('password', settings.protocol, settings.authType)) {
      const sealed = this.box.seal(given.password, row.id);
      row.passwordCiphertext = sealed.ciphertext;
      row.passwordKeyId = sealed.keyId;
    } else if (!applies('password', settings.protocol, settings.authType)) {
      row.passwordCiphertext = '';
      row.passwordKeyId = '';
    }
    // The others are re-sealed only when one is given or one stops applying: an update of
    // plain settings (interval, enabled) neither decrypts nor rewrites them.
    const stored = ConnectorSecrets.stored(row);
    const drops = EXTRA_KEYS.some((k) => stored.includes(k) && !applies(k, settings.protocol, settings.authType, settings.proxyUrl));
    if (!drops && !EXTRA_KEYS.some((k) => given[k])) return;
    const extras: Partial<Record<Extra, Secret>> = row.secretsCiphertext ? this.#openExtras(row) : {};
    for (const key of EXTRA_KEYS) {
      const value = given[key];
      if (value) extras[key] = value;
      if (!applies(key, settings.protocol, settings.authType, settings.proxyUrl)) delete extras[key];
    }
    this.#sealExtras(row, extras);
  }

  /** Every secret of the row, decrypted (for the login; never returned by the API). */
  open(row: ConnectorRow): Secrets {
    const extras = row.secretsCiphertext ? this.#openExtras(row) : {};
    return { ...(row.passwordCiphertext ? { password: this.box.open({ keyId: row.passwordKeyId, ciphertext: row.passwordCiphertext }, row.id) } : {}), ...extras };
  }

  /** Re-seals under the active key what is sealed under another; false when nothing was. */
  reseal(row: ConnectorRow): boolean {
    let changed = false;
    if (row.passwordCiphertext && this.box.needsRotation({ keyId: row.passwordKeyId, ciphertext: row.passwordCiphertext })) {
      const sealed = this.box.seal(this.box.open({ keyId: row.passwordKeyId, ciphertext: row.passwordCiphertext }, row.id), row.id);
      row.passwordCiphertext = sealed.ciphertext;
      row.passwordKeyId = sealed.keyId;
      changed = true;
    }
    if (row.secretsCiphertext && row.secretsKeyId && this.box.needsRotation({ keyId: row.secretsKeyId, ciphertext: row.secretsCiphertext })) {
      this.#sealExtras(row, this.#openExtras(row));
      changed = true;
    }
    return changed;
  }

  /** The row with one extra secret replaced (a rotated refresh token), others unchanged. */
  replace(row: ConnectorRow, key: Extra, value: Secret): void {
    this.#sealExtras(row, { ...this.#openExtras(row), [key]: value });
  }

  #openExtras(row: ConnectorRow): Partial<Record<Extra, Secret>> {
    if (!row.secretsCiphertext || !row.secretsKeyId) return {};
    const json = this.box.open({ keyId: row.secretsKeyId, ciphertext: row.secretsCiphertext }, `${row.id}#secrets`).reveal();
    const plain = JSON.parse(json) as Partial<Record<Extra, string>>;
    const out: Partial<Record<Extra, Secret>> = {};
    for (const key of EXTRA_KEYS) if (typeof plain[key] === 'string') out[key] = new Secret(plain[key]);
    return out;
  }

  #sealExtras(row: ConnectorRow, extras: Partial<Record<Extra, Secret>>): void {
    const keys = EXTRA_KEYS.filter((k) => extras[k]);
    if (keys.length === 0) {
      row.secretsCiphertext = null;
      row.secretsKeyId = null;
      row.secretKeys = null;
      return;
    }
    const plain = Object.fromEntries(keys.map((k) => [k, extras[k]?.reveal()]));
    const sealed = this.box.seal(new Secret(JSON.stringify(plain)), `${row.id}#secrets`);
    row.secretsCiphertext = sealed.ciphertext;
    row.secretsKeyId = sealed.keyId;
    row.secretKeys = keys.join(',');
  }
}
