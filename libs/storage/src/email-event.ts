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

/**
 * The workflow-start event, complete at store time and written to the outbox in the same
 * transaction as the email: the trigger service relays bytes, it never reassembles them.
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
      to: m.to,
      subject: m.subject,
      messageId: m.messageId,
      size: f.size,
      attachments: m.attachments,
      source: sourceToProto(f.source),
      raw: { storageService: f.storageAddress, emailId: f.emailId, sha256: f.sha256, size: f.size },
    }),
  ).finish();
}
