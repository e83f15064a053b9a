import { LOG_LEVEL_NAMES, type EventFacts, type LogLevelName, type MailAddress, type ParsedMetadata, type StoredEmailFacts } from '@postbote/connector-model';
import { ValidationError } from '@postbote/errors';
import { EmailReceived, LogLevel, enumKey, type Address, type EmailMetadata } from '@postbote/proto';
import { sourceToProto } from './source-mapping';

const addr = (a: MailAddress): Address => ({ name: a.name, address: a.address });

/** A stored email as GetEmail and ListEmails answer it. */
export function metadataToProto(e: StoredEmailFacts, m: ParsedMetadata): EmailMetadata {
  return {
    id: e.id,
    connectorId: e.connectorId,
    workspace: e.workspace,
    source: sourceToProto(e.source),
    from: m.from ? addr(m.from) : undefined,
    to: m.to.map(addr),
    cc: m.cc.map(addr),
    replyTo: m.replyTo.map(addr),
    subject: m.subject,
    date: m.date ? new Date(m.date) : undefined,
    messageId: m.messageId,
    inReplyTo: m.inReplyTo,
    references: m.references,
    textPreview: m.textPreview,
    htmlPreview: m.htmlPreview,
    attachments: m.attachments.map((a) => ({ fileName: a.fileName, contentType: a.contentType, size: a.size, sha256: a.sha256 })),
    size: e.size,
    sha256: e.sha256,
    parseError: e.parseError ?? '',
    storedAt: e.storedAt,
    receivedAt: e.receivedAt,
    eventId: e.eventId,
    eventPublishedAt: e.eventPublishedAt ?? undefined,
  };
}

/** A sender or recipient as people read it: `Name <address>`, or the address alone. */
export function addressText(a: Address | undefined): string {
  return a ? (a.name ? `${a.name} <${a.address}>` : a.address) : '';
}

/** Where a stored email came from, as people read it (CLI and console alike). */
export function sourceText(source: EmailMetadata['source']): string {
  const s = source?.source;
  if (s?.$case === 'imap') return `IMAP ${s.value.folder}, UIDVALIDITY ${s.value.uidValidity}, UID ${s.value.uid}`;
  return s?.$case === 'pop3' ? `POP3 UIDL ${s.value.uidl}` : '';
}

/** At most this many recipients and attachments travel in an event (their counts always do). */
export const EVENT_LIST_MAX = 100;
/** A subject longer than a header line may be (RFC 5322) is cut in the event; the stored email keeps it whole. */
const EVENT_SUBJECT_MAX = 998;

/**
 * The workflow-start event, complete at store time. It stays small whatever the email: one
 * with 25,000 recipients would otherwise make a record the broker refuses (1 MiB by default)
 * and hold every event behind it. Lists are cut to EVENT_LIST_MAX with their counts and
 * `truncated`; the full metadata is GetEmail's.
 */
export function emailReceivedToProto(f: EventFacts, m: ParsedMetadata): EmailReceived {
  // fromPartial copies every address and attachment itself: no copy of our own first (once per stored email).
  return EmailReceived.fromPartial({
    eventId: f.eventId,
    connectorId: f.connectorId,
    workspace: f.workspace,
    connectorName: f.connectorName,
    workflowId: f.workflowId,
    emailId: f.emailId,
    receivedAt: f.receivedAt,
    storedAt: f.storedAt,
    from: m.from ?? undefined,
    to: m.to.slice(0, EVENT_LIST_MAX),
    toCount: m.to.length,
    subject: m.subject.slice(0, EVENT_SUBJECT_MAX),
    messageId: m.messageId,
    size: f.size,
    attachments: m.attachments.slice(0, EVENT_LIST_MAX),
    attachmentCount: m.attachments.length,
    truncated: m.to.length > EVENT_LIST_MAX || m.attachments.length > EVENT_LIST_MAX,
    source: sourceToProto(f.source),
    raw: { storageService: f.storageAddress, emailId: f.emailId, sha256: f.sha256, size: f.size },
  });
}

/** A log level from the API; UNSPECIFIED and unknown values are refused naming `field`. */
export function logLevelFromProto(level: LogLevel, field: string): LogLevelName {
  const name = enumKey(LogLevel, level);
  if (!(LOG_LEVEL_NAMES as readonly string[]).includes(name)) throw ValidationError.single(field, 'enum', `must be ${LOG_LEVEL_NAMES.join(', ')}`);
  return name as LogLevelName;
}

export const logLevelToProto = (level: LogLevelName): LogLevel => LogLevel[level];
