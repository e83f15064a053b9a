import type { Secret } from '@postbote/crypto';
import type { Strategy } from './enums';
import type { ConnectorSettings, SecretKey } from './fields';

export * from './enums';

export type Secrets = { readonly [K in SecretKey]?: Secret };

/**
 * Settings as a client sends them: everything optional and unchecked. Enumerations arrive
 * as strings so the validator can name a bad value's field. Secrets travel apart,
 * wrapped as Secrets from where they enter.
 */
export type ConnectorSpecInput = {
  -readonly [K in keyof ConnectorSettings]?: NonNullable<ConnectorSettings[K]> extends number ? number : NonNullable<ConnectorSettings[K]> extends boolean ? boolean : string;
} & { [K in SecretKey]?: Secret | undefined };

/** A stored connector as services hand it out: settings and bookkeeping, never a secret. */
export type ConnectorRecord = ConnectorSettings & {
  readonly id: string;
  /** The workspace that owns it (set at creation, never changed). */
  readonly workspace: string;
  /** Which secrets are stored (shown as "set"; their values never leave the config service's store). */
  readonly secretsSet: readonly SecretKey[];
  readonly revision: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
};

/** An IMAP connector's folder settings (never null once validated); throws for POP3. */
export function imapPart(s: ConnectorSettings): { readonly folder: string; readonly strategy: Strategy; readonly moveTo: string | null; readonly push: boolean } {
  if (s.protocol !== 'IMAP' || s.folder === null || s.strategy === null) throw new Error(`connector "${s.name}" has no IMAP folder settings`);
  return { folder: s.folder, strategy: s.strategy, moveTo: s.moveTo, push: s.push ?? false };
}
