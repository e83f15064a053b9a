import type { Secret } from '@postbote/crypto';

export const PROTOCOLS = ['POP3', 'IMAP'] as const;
export const SECURITIES = ['NONE', 'SSL', 'TLS'] as const;
export const STRATEGIES = ['MARK_READ', 'DELETE', 'MOVE'] as const;

export type Protocol = (typeof PROTOCOLS)[number];
/** NONE = plaintext; SSL = implicit TLS; TLS = STARTTLS (IMAP) / STLS (POP3). */
export type Security = (typeof SECURITIES)[number];
export type Strategy = (typeof STRATEGIES)[number];

export interface ImapSettings {
  /** Folder to watch in "/" notation, e.g. "INBOX/Incidents". */
  readonly folder: string;
  readonly strategy: Strategy;
  /** Target folder for MOVE, "/" notation; null otherwise. */
  readonly moveTo: string | null;
}

/** A connector's validated settings, without credentials' plaintext. */
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
  /** Present exactly when protocol is IMAP. */
  readonly imap: ImapSettings | null;
  /** PEM bundle trusted in addition to the system CAs; null for none. */
  readonly trustedCaPem: string | null;
}

/**
 * Settings as a client sends them: everything optional and unchecked. Enumerations
 * arrive as strings so the validator can name a bad value's field.
 */
export interface ConnectorSpecInput {
  name?: string | undefined;
  protocol?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  username?: string | undefined;
  password?: Secret | undefined;
  security?: string | undefined;
  connectTimeoutMs?: number | undefined;
  fetchTimeoutMs?: number | undefined;
  pollIntervalSeconds?: number | undefined;
  batchSize?: number | undefined;
  retentionDays?: number | undefined;
  reprocess?: boolean | undefined;
  workflowId?: string | undefined;
  enabled?: boolean | undefined;
  folder?: string | undefined;
  strategy?: string | undefined;
  moveTo?: string | undefined;
  trustedCaPem?: string | undefined;
}
