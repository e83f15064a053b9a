import { sourceToProto } from '@postbote/contract';
import type { MessageSource } from '@postbote/connector-model';
import { EmailReceived } from '@postbote/proto';
import type { ParsedMetadata } from './parse-metadata';

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

/** At most this many recipients and attachments travel in an event (their counts always do). */
export const EVENT_LIST_MAX = 100;
/** A subject longer than a header line may be (RFC 5322) is cut in the event; the stored email keeps it whole. */
const EVENT_SUBJECT_MAX = 998;

/**
 * The workflow-start event, complete at store time and written to the outbox in the same
 * transaction as the email: the trigger service relays bytes, it never reassembles them.
 * It stays small whatever the email: one with 25,000 recipients would otherwise make a
 * record the broker refuses (1 MiB by default) and hold every event behind it. Lists are
 * cut to EVENT_LIST_MAX with their counts and `truncated`; the full metadata is GetEmail's.
 */
export function buildEmailReceived(f: EventFacts, m: ParsedMetadata): Uint8Array {
  return EmailReceived.encode(
    EmailReceived.fromPartial({
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
    }),
  ).finish();
}
