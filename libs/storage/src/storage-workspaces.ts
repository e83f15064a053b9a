import type { DataSource } from 'typeorm';
import { isUniqueViolation, type Gate } from '@postbote/db';
import { StorageWorkspaceEntity } from './entities';

/** What a workspace has stored, against its quota (0: no limit). */
export interface WorkspaceUsage {
  readonly storedBytes: number;
  readonly storedEmails: number;
  readonly maxStoredBytes: number;
}

const NONE: WorkspaceUsage = Object.freeze({ storedBytes: 0, storedEmails: 0, maxStoredBytes: 0 });
/** How long a usage read is trusted before the next email of a workspace reads it again. */
const FRESH_MS = 1_000;

/**
 * Each workspace's stored bytes against its quota. The counters move in the transactions
 * that store (EmailWriter) and purge (RetentionJob) emails; the quota comes from the
 * workspaces topic. The check is made before an email is committed, against a reading at
 * most a second old: emails committing meanwhile may take a workspace past its limit by
 * what they carry, never by more. A refused email is not lost: it stays on its mail server,
 * untouched, the connector's log says why, and the next run tries it again.
 */
export class StorageWorkspaces {
  readonly #read = new Map<string, { usage: WorkspaceUsage; at: number }>();

  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
    private readonly now: () => Date,
  ) {}

  /** The workspace's quota changed (or was first heard of). */
  async quota(workspace: string, maxStoredBytes: number): Promise<void> {
    const repo = this.ds.getRepository(StorageWorkspaceEntity);
    const at = this.now();
    await this.gate(async () => {
      const done = await repo.update({ workspaceId: workspace }, { maxStoredBytes, updatedAt: at });
      if (done.affected) return;
      await repo.insert({ workspaceId: workspace, maxStoredBytes, storedBytes: 0, storedEmails: 0, updatedAt: at }).catch(async (err: unknown) => {
        if (!isUniqueViolation(err)) throw err;
        await repo.update({ workspaceId: workspace }, { maxStoredBytes, updatedAt: at });
      });
    });
    this.#read.delete(workspace);
  }

  async usage(workspace: string): Promise<WorkspaceUsage> {
    const row = await this.gate(() => this.ds.getRepository(StorageWorkspaceEntity).findOneBy({ workspaceId: workspace }));
    return row ? { storedBytes: row.storedBytes, storedEmails: row.storedEmails, maxStoredBytes: row.maxStoredBytes } : NONE;
  }

  /** Why `size` more bytes (an email, or a group's emails) may not be stored in `workspace` now, or null when they may. */
  async refusal(workspace: string, size: number): Promise<string | null> {
    const t = this.now().getTime();
    let hit = this.#read.get(workspace);
    if (!hit || t - hit.at > FRESH_MS) {
      hit = { usage: await this.usage(workspace), at: t };
      this.#read.set(workspace, hit);
    }
    const { storedBytes, maxStoredBytes } = hit.usage;
    if (maxStoredBytes === 0 || storedBytes + size <= maxStoredBytes) return null;
    return `workspace ${workspace} has stored ${storedBytes} of its ${maxStoredBytes} bytes; this email stays on its mail server, untouched, until retention frees space or the limit is raised`;
  }
}
