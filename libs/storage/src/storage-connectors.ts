import { IsNull, type DataSource } from 'typeorm';
import { settingsFromPartialDocument, settingsToDocument, type ConnectorRecord, type ConnectorSettings } from '@postbote/connector-model';
import { PreconditionError } from '@postbote/errors';
import { isUniqueViolation, type Gate } from '@postbote/db';
import { LogEntity, StorageConnectorEntity, type StorageConnectorRow } from './entities';

/** Whose emails a StoreEmails stream carries, from storage's copy of the registry (never from the caller). */
export interface StoreTarget {
  readonly workspace: string;
  readonly name: string;
  readonly workflowId: string;
  readonly reprocess: boolean;
}

/** The settings storage reads (a new one is added here; the stored document already has it). */
const READS = ['name', 'workflowId', 'reprocess', 'retentionDays'] as const;

/** A connector as storage knows it: bookkeeping and the settings it reads. */
export type KnownConnector = Omit<StorageConnectorRow, 'settingsJson'> & Pick<ConnectorSettings, (typeof READS)[number]>;

function known(row: StorageConnectorRow): KnownConnector {
  const { settingsJson, ...rest } = row;
  return { ...rest, ...settingsFromPartialDocument(settingsJson, READS) };
}

/**
 * What storage needs to know about connectors (workspace, settings, deletion), kept from the
 * connectors topic in `storage_connectors`: the settings as the registry's document, so a
 * setting storage comes to read needs no migration. Events are state, not commands: applying one twice is harmless,
 * and an older upsert never resurrects a deleted connector.
 */
export class StorageConnectors {
  /** Connector → workspace: it never changes, so once known it is known. */
  readonly #workspaces = new Map<string, string>();

  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
  ) {}

  /** A connector's state from the registry (whole; tests give only the settings storage reads). */
  async upserted(c: Pick<ConnectorRecord, 'id' | 'workspace'> & Partial<ConnectorSettings>, at: Date): Promise<void> {
    const repo = this.ds.getRepository(StorageConnectorEntity);
    const connectorId = c.id;
    const values = { workspaceId: c.workspace, settingsJson: settingsToDocument(c), purgeNow: false, updatedAt: at };
    this.#workspaces.set(connectorId, c.workspace);
    await this.gate(async () => {
      const existing = await repo.findOneBy({ connectorId });
      if (existing?.deletedAt) return;
      if (existing) return void (await repo.update({ connectorId, deletedAt: IsNull() }, values));
      await repo.insert({ connectorId, ...values, deletedAt: null }).catch(async (err: unknown) => {
        // Another writer inserted it meanwhile: update it instead (never a deleted one).
        if (!isUniqueViolation(err)) throw err;
        await repo.update({ connectorId, deletedAt: IsNull() }, values);
      });
      // Log entries a fetcher wrote before this event reached storage were filed under no
      // workspace (see ConnectorLog): they are the connector's first words, so they join it now.
      await this.ds.getRepository(LogEntity).update({ connectorId, workspaceId: '' }, { workspaceId: c.workspace });
    });
  }

  /**
   * The connector an email is stored for, as the registry last said: its workspace, name,
   * workflow and reprocess switch come from here, never from the caller. Unknown (its event
   * has not arrived yet) and deleted connectors are refused; the fetcher retries the first.
   */
  async forStore(connectorId: string): Promise<StoreTarget> {
    const found = await this.gate(() => this.ds.getRepository(StorageConnectorEntity).findOneBy({ connectorId }));
    const row = found ? known(found) : null;
    if (row?.deletedAt) throw new PreconditionError(`connector ${connectorId} was deleted; nothing is stored for it`, { reason: 'CONNECTOR_DELETED' });
    if (!row || !row.workflowId) {
      throw new PreconditionError(`connector ${connectorId} is not known to storage yet (its configuration event has not arrived); try again shortly`, { reason: 'CONNECTOR_UNKNOWN' });
    }
    this.#workspaces.set(connectorId, row.workspaceId);
    return { workspace: row.workspaceId, name: row.name, workflowId: row.workflowId, reprocess: Boolean(row.reprocess) };
  }

  /** The workspaces of these connectors (an unknown one is absent). */
  async workspacesOf(connectorIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of new Set(connectorIds)) {
      let w = this.#workspaces.get(id);
      if (w === undefined) {
        const row = await this.gate(() => this.ds.getRepository(StorageConnectorEntity).findOne({ select: { connectorId: true, workspaceId: true }, where: { connectorId: id } }));
        if (row) this.#workspaces.set(id, (w = row.workspaceId));
      }
      if (w !== undefined) out.set(id, w);
    }
    return out;
  }

  async deleted(connectorId: string, purgeNow: boolean, at: Date): Promise<void> {
    const repo = this.ds.getRepository(StorageConnectorEntity);
    await this.gate(async () => {
      const existing = await repo.findOneBy({ connectorId });
      await repo.save({
        connectorId,
        // Unknown connector (never saw an upsert): nothing of it is stored anywhere anyway.
        workspaceId: existing?.workspaceId ?? this.#workspaces.get(connectorId) ?? '',
        // Never saw an upsert: no settings, so its mail is kept for the default retention.
        settingsJson: existing?.settingsJson ?? null,
        deletedAt: existing?.deletedAt ?? at,
        purgeNow: purgeNow || Boolean(existing?.purgeNow),
        updatedAt: at,
      });
    });
  }

  async all(): Promise<KnownConnector[]> {
    return (await this.gate(() => this.ds.getRepository(StorageConnectorEntity).find())).map(known);
  }

  forget(connectorId: string): Promise<unknown> {
    this.#workspaces.delete(connectorId);
    return this.gate(() => this.ds.getRepository(StorageConnectorEntity).delete({ connectorId }));
  }
}
