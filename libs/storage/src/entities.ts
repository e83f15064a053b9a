import { EntitySchema, type ValueTransformer } from 'typeorm';

// Tables owned by the storage service. BIGINT columns come back as strings from
// mysql2 for large values; sizes and ids here stay far below 2^53.
const num: ValueTransformer = { to: (v: unknown) => v, from: (v: unknown) => (v === null || v === undefined ? v : Number(v)) };

export interface EmailRow {
  id: string;
  /** Its connector's workspace: every read asks for the caller's. */
  workspaceId: string;
  connectorId: string;
  eventId: string;
  sourceKind: string;
  folder: string | null;
  uidValidity: number | null;
  uid: number | null;
  uidl: string | null;
  occurrence: string;
  messageId: string;
  sha256: string;
  size: number;
  chunkCount: number;
  /** The object holding its bytes (MAIL_BLOBS_URL); null: they are its chunks. */
  blobKey: string | null;
  /** JSON of the parsed metadata (addresses, previews, attachments…). */
  metadataJson: string;
  subject: string;
  parseError: string | null;
  receivedAt: Date;
  storedAt: Date;
}

export const EmailEntity = new EntitySchema<EmailRow>({
  name: 'Email',
  tableName: 'emails',
  columns: {
    id: { type: 'varchar', length: 36, primary: true },
    workspaceId: { name: 'workspace_id', type: 'varchar', length: 40 },
    connectorId: { name: 'connector_id', type: 'varchar', length: 36 },
    eventId: { name: 'event_id', type: 'varchar', length: 36 },
    sourceKind: { name: 'source_kind', type: 'varchar', length: 8 },
    folder: { type: 'varchar', length: 512, nullable: true },
    uidValidity: { name: 'uid_validity', type: 'bigint', nullable: true, transformer: num },
    uid: { type: 'bigint', nullable: true, transformer: num },
    uidl: { type: 'varchar', length: 255, nullable: true },
    occurrence: { type: 'varchar', length: 128 },
    messageId: { name: 'message_id', type: 'varchar', length: 998 },
    sha256: { type: 'varchar', length: 64 },
    size: { type: 'bigint', transformer: num },
    chunkCount: { name: 'chunk_count', type: 'int' },
    blobKey: { name: 'blob_key', type: 'varchar', length: 1024, nullable: true },
    metadataJson: { name: 'metadata_json', type: 'text' },
    subject: { type: 'varchar', length: 998 },
    parseError: { name: 'parse_error', type: 'text', nullable: true },
    receivedAt: { name: 'received_at', type: 'datetime', precision: 3 },
    storedAt: { name: 'stored_at', type: 'datetime', precision: 3 },
  },
});

/** Raw bytes in order, CHUNK_BYTES per row, so no statement comes near max_allowed_packet. */
export interface ChunkRow {
  emailId: string;
  seq: number;
  data: Buffer;
  createdAt: Date;
}

export const ChunkEntity = new EntitySchema<ChunkRow>({
  name: 'EmailChunk',
  tableName: 'email_chunks',
  columns: {
    emailId: { name: 'email_id', type: 'varchar', length: 36, primary: true },
    seq: { type: 'int', primary: true },
    data: { type: 'blob' },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
});

/**
 * Dedupe keys: one row per (connector, key). Kind SOURCE = the source coordinates,
 * CONTENT = Message-ID + SHA-256. Kept after the email is purged, so a purged email
 * still on the server is still recognised (see README, retention).
 */
export interface DedupeRow {
  connectorId: string;
  keyHash: string;
  kind: string;
  emailId: string;
  eventId: string;
  createdAt: Date;
}

export const DedupeEntity = new EntitySchema<DedupeRow>({
  name: 'EmailDedupe',
  tableName: 'email_dedupe',
  columns: {
    connectorId: { name: 'connector_id', type: 'varchar', length: 36, primary: true },
    keyHash: { name: 'key_hash', type: 'varchar', length: 64, primary: true },
    kind: { type: 'varchar', length: 8 },
    emailId: { name: 'email_id', type: 'varchar', length: 36 },
    eventId: { name: 'event_id', type: 'varchar', length: 36 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
  },
});

export interface LogRow {
  id: number;
  workspaceId: string;
  connectorId: string;
  time: Date;
  level: number;
  code: string;
  message: string;
}

export const LogEntity = new EntitySchema<LogRow>({
  name: 'ConnectorLog',
  tableName: 'connector_log',
  columns: {
    id: { type: 'bigint', primary: true, generated: 'increment', transformer: num },
    workspaceId: { name: 'workspace_id', type: 'varchar', length: 40 },
    connectorId: { name: 'connector_id', type: 'varchar', length: 36 },
    time: { type: 'datetime', precision: 3 },
    level: { type: 'int' },
    code: { type: 'varchar', length: 64 },
    message: { type: 'text' },
  },
});

/** What storage knows of each connector, from the connectors topic: its workspace, settings and deletion. */
export interface StorageConnectorRow {
  connectorId: string;
  workspaceId: string;
  /**
   * The settings as the registry last published them: connector-model's settings document,
   * read with settingFromDocument (a row from before this column holds only the four settings
   * storage read then, a connector seen only deleted none). Null: never written.
   */
  settingsJson: string | null;
  deletedAt: Date | null;
  purgeNow: boolean;
  updatedAt: Date;
}

export const StorageConnectorEntity = new EntitySchema<StorageConnectorRow>({
  name: 'StorageConnector',
  tableName: 'storage_connectors',
  columns: {
    connectorId: { name: 'connector_id', type: 'varchar', length: 36, primary: true },
    workspaceId: { name: 'workspace_id', type: 'varchar', length: 40 },
    settingsJson: { name: 'settings_json', type: 'text', nullable: true },
    deletedAt: { name: 'deleted_at', type: 'datetime', precision: 3, nullable: true },
    purgeNow: { name: 'purge_now', type: 'boolean' },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3 },
  },
});

/** A workspace's stored mail against its quota (storage's copy of the quota, from the workspaces topic). */
export interface StorageWorkspaceRow {
  workspaceId: string;
  /** 0: no limit. */
  maxStoredBytes: number;
  /** Counted in the transactions that store and purge its emails. */
  storedBytes: number;
  storedEmails: number;
  updatedAt: Date | null;
}

export const StorageWorkspaceEntity = new EntitySchema<StorageWorkspaceRow>({
  name: 'StorageWorkspace',
  tableName: 'storage_workspaces',
  columns: {
    workspaceId: { name: 'workspace_id', type: 'varchar', length: 40, primary: true },
    maxStoredBytes: { name: 'max_stored_bytes', type: 'bigint', transformer: num, default: 0 },
    storedBytes: { name: 'stored_bytes', type: 'bigint', transformer: num, default: 0 },
    storedEmails: { name: 'stored_emails', type: 'bigint', transformer: num, default: 0 },
    updatedAt: { name: 'updated_at', type: 'datetime', precision: 3, nullable: true },
  },
});
