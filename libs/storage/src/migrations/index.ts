import { CreateStorage1764432000000 } from './1764432000000-create-storage';
import { DatabaseIdentity1764979200000 } from './1764979200000-database-identity';
import { ConnectorWorkflow1765324800000 } from './1765324800000-connector-workflow';
import { Workspaces1767916800000 } from './1767916800000-workspaces';
import { OutboxParking1768003200000 } from './1768003200000-outbox-parking';
import { ConnectorSettingsDocument1768089600000 } from './1768089600000-connector-settings-document';
import { EmailBlobs1768176000000 } from './1768176000000-email-blobs';
import { OutboxWaitingIndex1768262400000 } from './1768262400000-outbox-waiting-index';

/** The storage service's migrations, oldest first. Never edit one that has shipped; add a new one. */
export const STORAGE_MIGRATIONS = [CreateStorage1764432000000, DatabaseIdentity1764979200000, ConnectorWorkflow1765324800000, Workspaces1767916800000, OutboxParking1768003200000, ConnectorSettingsDocument1768089600000, EmailBlobs1768176000000, OutboxWaitingIndex1768262400000];
