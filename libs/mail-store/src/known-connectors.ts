import type { DataSource } from 'typeorm';
import type { Gate } from '@postbote/db';
import { KnownConnectorEntity, type KnownConnectorRow } from './entities';

/**
 * What storage needs to know about connectors (retention, deletion), kept from the
 * connectors topic. Events are state, not commands: applying one twice is harmless,
 * and an older upsert never resurrects a deleted connector.
 */
export class KnownConnectors {
  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
  ) {}

  async upserted(connectorId: string, name: string, retentionDays: number, at: Date): Promise<void> {
    const repo = this.ds.getRepository(KnownConnectorEntity);
    await this.gate(async () => {
      const existing = await repo.findOneBy({ connectorId });
      if (existing?.deletedAt) return;
      await repo.save({ connectorId, name, retentionDays, deletedAt: null, purgeNow: false, updatedAt: at });
    });
  }

  async deleted(connectorId: string, purgeNow: boolean, at: Date): Promise<void> {
    const repo = this.ds.getRepository(KnownConnectorEntity);
    await this.gate(async () => {
      const existing = await repo.findOneBy({ connectorId });
      await repo.save({
        connectorId,
        name: existing?.name ?? '',
        // Unknown retention (never saw an upsert): keep its mail the default 30 days.
        retentionDays: existing?.retentionDays ?? 30,
        deletedAt: existing?.deletedAt ?? at,
        purgeNow: purgeNow || Boolean(existing?.purgeNow),
        updatedAt: at,
      });
    });
  }

  all(): Promise<KnownConnectorRow[]> {
    return this.gate(() => this.ds.getRepository(KnownConnectorEntity).find());
  }

  forget(connectorId: string): Promise<unknown> {
    return this.gate(() => this.ds.getRepository(KnownConnectorEntity).delete({ connectorId }));
  }
}
