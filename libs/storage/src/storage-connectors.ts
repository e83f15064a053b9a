import { IsNull, type DataSource } from 'typeorm';
import { DEFAULTS } from '@postbote/connector-model';
import { PreconditionError } from '@postbote/errors';
import { isUniqueViolation, type Gate } from '@postbote/db';
import { StorageConnectorEntity, type StorageConnectorRow } from './entities';

/**
 * What storage needs to know about connectors (retention, deletion), kept from the
 * connectors topic in `storage_connectors`. Events are state, not commands: applying one twice is harmless,
 * and an older upsert never resurrects a deleted connector.
 */
export class StorageConnectors {
  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
  ) {}

  async upserted(connectorId: string, c: { name: string; workflowId: string; reprocess: boolean; retentionDays: number }, at: Date): Promise<void> {
    const repo = this.ds.getRepository(StorageConnectorEntity);
    const values = { name: c.name, workflowId: c.workflowId, reprocess: c.reprocess, retentionDays: c.retentionDays, purgeNow: false, updatedAt: at };
    await this.gate(async () => {
      const existing = await repo.findOneBy({ connectorId });
      if (existing?.deletedAt) return;
      if (existing) return void (await repo.update({ connectorId, deletedAt: IsNull() }, values));
      await repo.insert({ connectorId, ...values, deletedAt: null }).catch(async (err: unknown) => {
        // Another writer inserted it meanwhile: update it instead (never a deleted one).
        if (!isUniqueViolation(err)) throw err;
        await repo.update({ connectorId, deletedAt: IsNull() }, values);
      });
    });
  }

  /**
   * The connector an email is stored for, as the registry last said: its name, workflow and
   * reprocess switch come from here, never from the caller. Unknown (its event has not
   * arrived yet) and deleted connectors are refused; the fetcher retries the first.
   */
  async forStore(connectorId: string): Promise<{ name: string; workflowId: string; reprocess: boolean }> {
    const row = await this.gate(() => this.ds.getRepository(StorageConnectorEntity).findOneBy({ connectorId }));
    if (row?.deletedAt) throw new PreconditionError(`connector ${connectorId} was deleted; nothing is stored for it`, { reason: 'CONNECTOR_DELETED' });
    if (!row || !row.workflowId) {
      throw new PreconditionError(`connector ${connectorId} is not known to storage yet (its configuration event has not arrived); try again shortly`, { reason: 'CONNECTOR_UNKNOWN' });
    }
    return { name: row.name, workflowId: row.workflowId, reprocess: Boolean(row.reprocess) };
  }

  async deleted(connectorId: string, purgeNow: boolean, at: Date): Promise<void> {
    const repo = this.ds.getRepository(StorageConnectorEntity);
    await this.gate(async () => {
      const existing = await repo.findOneBy({ connectorId });
      await repo.save({
        connectorId,
        name: existing?.name ?? '',
        workflowId: existing?.workflowId ?? '',
        reprocess: Boolean(existing?.reprocess),
        // Unknown retention (never saw an upsert): keep its mail for the default retention.
        retentionDays: existing?.retentionDays ?? DEFAULTS.retentionDays,
        deletedAt: existing?.deletedAt ?? at,
        purgeNow: purgeNow || Boolean(existing?.purgeNow),
        updatedAt: at,
      });
    });
  }

  all(): Promise<StorageConnectorRow[]> {
    return this.gate(() => this.ds.getRepository(StorageConnectorEntity).find());
  }

  forget(connectorId: string): Promise<unknown> {
    return this.gate(() => this.ds.getRepository(StorageConnectorEntity).delete({ connectorId }));
  }
}
