import type { BusMessage } from '@postbote/bus';
import type { OutboxRow } from '@postbote/email-outbox';
import { EmailReceived } from '@postbote/proto';

export type EventEncoding = 'protobuf' | 'json';

export const EVENT_SCHEMA_VERSION = '1';
export const CONTENT_TYPES: Record<EventEncoding, string> = {
  protobuf: 'application/x-protobuf; messageType=postbote.v1.EmailReceived',
  json: 'application/json; messageType=postbote.v1.EmailReceived',
};

/**
 * One outbox row as a topic record: keyed by connector id (one connector's events stay
 * in one partition, in order), with headers consumers can route (workspace) and dedupe
 * (event-id) on.
 */
export function toRecord(row: Pick<OutboxRow, 'payload' | 'connectorId' | 'eventId' | 'workspaceId'>, encoding: EventEncoding): BusMessage {
  const value = encoding === 'protobuf' ? row.payload : Buffer.from(JSON.stringify(EmailReceived.toJSON(EmailReceived.decode(row.payload))), 'utf8');
  return {
    key: row.connectorId,
    value,
    headers: { 'content-type': CONTENT_TYPES[encoding], 'schema-version': EVENT_SCHEMA_VERSION, 'event-id': row.eventId, workspace: row.workspaceId },
  };
}

/** Reads a record back in either encoding (tail, tests, consumers written in TS). */
export function fromRecord(value: Uint8Array, headers: Readonly<Record<string, string>>): EmailReceived {
  if ((headers['content-type'] ?? '').startsWith('application/json')) {
    return EmailReceived.fromJSON(JSON.parse(Buffer.from(value).toString('utf8')));
  }
  return EmailReceived.decode(value);
}
