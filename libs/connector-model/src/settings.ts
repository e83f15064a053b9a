import type { Secret } from '@postbote/crypto';

export const PROTOCOLS = ['POP3', 'IMAP'] as const;
export const SECURITIES = ['NONE', 'SSL', 'TLS'] as const;
export const STRATEGIES = ['MARK_READ', 'DELETE', 'MOVE'] as const;

export type Protocol = (typeof PROTOCOLS)[number];
/** NONE = plaintext; SSL = implicit TLS; TLS = STARTTLS (IMAP) / STLS (POP3). */
export type Security = (typeof SECURITIES)[number];
export type Strategy = (typeof STRATEGIES)[number];

/**
 * A connector's validated settings, without credentials' plaintext — the one shape every
 * service, the CLI and the console share. Field by field it is described (API name, label,
 * kind) in FIELDS, which the contract mappings, the stored document and the CLI's display
 * all follow: a new setting is a new key here, an entry in FIELDS and its rule in validate.
 */
export interface ConnectorSettings {
  readonly name: string;
  readonly protocol: Protocol;
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly security: Security;
  readonly connectTimeoutMs: number;
  readonly fetchTimeoutMs: number;
  readonly pollIntervalSeconds: number;
  readonly batchSize: number;
  readonly retentionDays: number;
  readonly reprocess: boolean;
  readonly workflowId: string;
  readonly enabled: boolean;
  /** IMAP: folder to watch in "/" notation, e.g. "INBOX/Incidents"; null for POP3. */
  readonly folder: string | null;
  /** IMAP: what happens on the server once an email is stored; null for POP3. */
  readonly strategy: Strategy | null;
  /** IMAP MOVE: target folder in "/" notation; null otherwise. */
  readonly moveTo: string | null;
  /** IMAP: keep a connection in IDLE and run as soon as the server announces mail; null for POP3. */
  readonly push: boolean | null;
  /** PEM bundle trusted in addition to the system CAs; null for none. */
  readonly trustedCaPem: string | null;
}

/**
 * Settings as a client sends them: everything optional and unchecked. Enumerations arrive
 * as strings so the validator can name a bad value's field. The password travels apart,
 * wrapped as a Secret from where it enters.
 */
export type ConnectorSpecInput = {
  -readonly [K in keyof ConnectorSettings]?: NonNullable<ConnectorSettings[K]> extends number ? number : NonNullable<ConnectorSettings[K]> extends boolean ? boolean : string;
} & { password?: Secret | undefined };

/** A stored connector as services hand it out: settings and bookkeeping, never the password. */
export interface ConnectorRecord extends ConnectorSettings {
  readonly id: string;
  readonly hasPassword: boolean;
  readonly revision: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** An IMAP connector's folder settings (never null once validated); throws for POP3. */
export function imapPart(s: ConnectorSettings): { readonly folder: string; readonly strategy: Strategy; readonly moveTo: string | null; readonly push: boolean } {
  if (s.protocol !== 'IMAP' || s.folder === null || s.strategy === null) throw new Error(`connector "${s.name}" has no IMAP folder settings`);
  return { folder: s.folder, strategy: s.strategy, moveTo: s.moveTo, push: s.push ?? false };
}
