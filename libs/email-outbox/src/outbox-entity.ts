import { EntitySchema } from 'typeorm';

/**
 * The transactional outbox between storage and trigger: the storage service writes one
 * row in the same transaction as the email; the trigger service publishes rows in id
 * order and marks them. The event id is also kept on the email row, so the outbox is
 * never its only copy.
 */
export interface OutboxRow {
  /** Monotonic; publishing in id order keeps each connector's events in store order. */
  id: number;
  eventId: string;
  emailId: string;
  connectorId: string;
  /** Its connector's workspace (also in the payload): the record's header, and its topic when each workspace has one. */
  workspaceId: string;
  /** The encoded EmailReceived event (protobuf), built at store time. */
  payload: Buffer;
  createdAt: Date;
  publishedAt: Date | null;
  /** Set aside by the relay (it could not be published); neither pending nor published until retried. */
  parkedAt: Date | null;
  parkedReason: string | null;
}

export const OutboxEntity = new EntitySchema<OutboxRow>({
  name: 'TriggerOutbox',
  tableName: 'trigger_outbox',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment', transformer: { to: (v: unknown) => v, from: (v: unknown) => Number(v) } },
    eventId: { name: 'event_id', type: 'varchar', length: 36, unique: true },
    emailId: { name: 'email_id', type: 'varchar', length: 36 },
    connectorId: { name: 'connector_id', type: 'varchar', length: 36 },
    workspaceId: { name: 'workspace_id', type: 'varchar', length: 40 },
    payload: { type: 'blob' },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    publishedAt: { name: 'published_at', type: 'datetime', precision: 3, nullable: true },
    parkedAt: { name: 'parked_at', type: 'datetime', precision: 3, nullable: true },
    parkedReason: { name: 'parked_reason', type: 'varchar', length: 500, nullable: true },
  },
});
