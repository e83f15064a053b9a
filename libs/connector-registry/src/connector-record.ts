import type { ConnectorSettings, ImapSettings, Protocol, Security, Strategy } from '@postbote/connector-model';
import type { ConnectorRow } from './connector-entity';

/** A stored connector as the service hands it out: settings and bookkeeping, never the password. */
export interface ConnectorRecord extends ConnectorSettings {
  readonly id: string;
  readonly hasPassword: boolean;
  readonly revision: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export function recordFromRow(row: ConnectorRow): ConnectorRecord {
  const imap: ImapSettings | null =
    row.protocol === 'IMAP' ? { folder: row.folder ?? 'INBOX', strategy: (row.strategy ?? 'MARK_READ') as Strategy, moveTo: row.moveTo } : null;
  return Object.freeze({
    id: row.id,
    name: row.name,
    protocol: row.protocol as Protocol,
    host: row.host,
    port: row.port,
    username: row.username,
    security: row.security as Security,
    connectTimeoutMs: row.connectTimeoutMs,
    fetchTimeoutMs: row.fetchTimeoutMs,
    pollIntervalSeconds: row.pollIntervalSeconds,
    batchSize: row.batchSize,
    retentionDays: row.retentionDays,
    reprocess: Boolean(row.reprocess),
    workflowId: row.workflowId,
    enabled: Boolean(row.enabled),
    imap,
    trustedCaPem: row.trustedCaPem,
    hasPassword: row.passwordCiphertext !== '',
    revision: row.revision,
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  });
}

/** Copies settings onto a row (all columns but id, secrets and bookkeeping). */
export function applySettings(row: ConnectorRow, s: ConnectorSettings): void {
  row.name = s.name;
  row.nameKey = s.name.toLowerCase();
  row.protocol = s.protocol;
  row.host = s.host;
  row.port = s.port;
  row.username = s.username;
  row.security = s.security;
  row.connectTimeoutMs = s.connectTimeoutMs;
  row.fetchTimeoutMs = s.fetchTimeoutMs;
  row.pollIntervalSeconds = s.pollIntervalSeconds;
  row.batchSize = s.batchSize;
  row.retentionDays = s.retentionDays;
  row.reprocess = s.reprocess;
  row.workflowId = s.workflowId;
  row.enabled = s.enabled;
  row.folder = s.imap?.folder ?? null;
  row.strategy = s.imap?.strategy ?? null;
  row.moveTo = s.imap?.moveTo ?? null;
  row.trustedCaPem = s.trustedCaPem;
}
