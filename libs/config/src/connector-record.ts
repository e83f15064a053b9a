import { settingsFromDocument, settingsToDocument, type ConnectorRecord, type ConnectorSettings } from '@postbote/connector-model';
import type { ConnectorRow } from './connector-entity';
import { ConnectorSecrets } from './connector-secrets';

export function recordFromRow(row: ConnectorRow): ConnectorRecord {
  return Object.freeze({
    ...settingsFromDocument(row.settingsJson),
    id: row.id,
    workspace: row.workspaceId,
    secretsSet: ConnectorSecrets.stored(row),
    revision: row.revision,
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  });
}

/** Copies settings onto a row (everything but id, secrets and bookkeeping). */
export function applySettings(row: ConnectorRow, s: ConnectorSettings): void {
  row.nameKey = s.name.toLowerCase();
  row.settingsJson = settingsToDocument(s);
}
