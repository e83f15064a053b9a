import type { Readable } from 'node:stream';
import type { Secret } from '@postbote/crypto';
import type { Security } from '@postbote/connector-model';

/** Where a message lives on its server; the dedupe coordinates. */
export type MessageSource =
  | { readonly kind: 'IMAP'; readonly folder: string; readonly uidValidity: number; readonly uid: number }
  | { readonly kind: 'POP3'; readonly uidl: string };

/** One message on its way to durable storage. */
export interface IncomingMessage {
  readonly source: MessageSource;
  readonly size: number;
  /** See StoreEmailHeader.occurrence: distinguishes a deliberate re-processing. */
  readonly occurrence: string;
  readonly content: Readable;
}

export interface StoreOutcome {
  readonly duplicate: boolean;
}

/**
 * Stores a message durably and resolves only then. A mailbox run calls it before any
 * server-side action; if it throws, the message is left exactly as it was.
 */
export type StoreMessage = (message: IncomingMessage) => Promise<StoreOutcome>;

export type RunLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Writes to the connector's log ("Protokoll"). */
export type RunLog = (level: RunLogLevel, code: string, message: string) => void;

/** How to reach a mailbox; shared by IMAP and POP3. */
export interface ServerAccess {
  readonly host: string;
  readonly port: number;
  readonly security: Security;
  readonly trustedCaPem: string | null;
  readonly username: string;
  readonly password: Secret;
  readonly connectTimeoutMs: number;
}

export interface RunCounts {
  /** Messages found new this run (before the batch limit). */
  candidates: number;
  stored: number;
  duplicates: number;
  skippedOversize: number;
  postProcessed: number;
}

export function emptyCounts(): RunCounts {
  return { candidates: 0, stored: 0, duplicates: 0, skippedOversize: 0, postProcessed: 0 };
}

/** One step of TestConnection, with what the server said. */
export interface TestStepResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly durationMs: number;
}
