import type { MessageSource } from './message-source';

// What Postbote knows of a stored email, apart from its bytes: the shapes storage produces
// and the API (contract mappings) shows. Declared here, beside the connector it came from,
// so the mappings live in one place (libs/contract) and storage only fills them in.

export interface MailAddress {
  readonly name: string;
  readonly address: string;
}

export interface AttachmentInfo {
  readonly fileName: string;
  readonly contentType: string;
  readonly size: number;
  readonly sha256: string;
}

/** What storage keeps of a message's content besides the raw bytes. */
export interface ParsedMetadata {
  from: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  replyTo: MailAddress[];
  subject: string;
  /** ISO date from the Date header, null when absent or unparseable. */
  date: string | null;
  messageId: string;
  inReplyTo: string;
  references: string[];
  textPreview: string;
  htmlPreview: string;
  attachments: AttachmentInfo[];
  /** Problems found while parsing; empty for a clean message. Never blocks storing. */
  problems: string[];
}

/** A stored email's bookkeeping. */
export interface StoredEmailFacts {
  readonly id: string;
  readonly connectorId: string;
  readonly workspace: string;
  readonly source: MessageSource;
  readonly size: number;
  readonly sha256: string;
  /** Why its content could not be parsed; null for a clean message. */
  readonly parseError: string | null;
  readonly storedAt: Date;
  readonly receivedAt: Date;
  readonly eventId: string;
  /** When its event left the outbox (null: waiting, or not asked). */
  readonly eventPublishedAt: Date | null;
}

/** What the workflow-start event says besides the email's content. */
export interface EventFacts {
  readonly eventId: string;
  readonly emailId: string;
  readonly connectorId: string;
  readonly workspace: string;
  readonly connectorName: string;
  readonly workflowId: string;
  readonly source: MessageSource;
  readonly receivedAt: Date;
  readonly storedAt: Date;
  readonly sha256: string;
  readonly size: number;
  /** Where consumers call DownloadRawEmail. */
  readonly storageAddress: string;
}

/** A connector log entry's levels, least severe first. */
export const LOG_LEVEL_NAMES = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevelName = (typeof LOG_LEVEL_NAMES)[number];
