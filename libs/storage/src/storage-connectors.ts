import type { DataSource } from 'typeorm';
import { DEFAULTS } from '@postbote/connector-model';
import type { Gate } from '@postbote/db';
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

  async upserted(connectorId: string, name: string, retentionDays: number, at: Date): Promise<void> {
    const repo = this.ds.getRepository(StorageConnectorEntity);
    await this.gate(async () => {
      const existing = await repo.findOneBy({ connectorId });
      if (existing?.deletedAt) return;
      await repo.save({ connectorId, name, retentionDays, deletedAt: null, purgeNow: false, updatedAt: at });
    });
  }

  async deleted(connectorId: string, purgeNow: boolean, at: Date): Promise<void> {
    const repo = this.ds.getRepository(StorageConnectorEntity);
    await this.gate(async () => {
      const existing = await repo.findOneBy({ connectorId });
      await repo.save({
        connectorId,
        name: existing?.name ?? '',
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
