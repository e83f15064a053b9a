import { In, type DataSource } from 'typeorm';
import type { Gate } from '@postbote/db';
import { NotFoundError, PreconditionError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import { ApiTokenEntity, AuditEntity, ConsoleUserEntity, MembershipEntity } from './access-entities';
import type { Actor, AuditLog } from './audit-log';
import { ConnectorEntity, TombstoneEntity } from './connector-entity';
import type { ConnectorEventPublisher, WorkspaceEventPublisher } from './connector-events';
import { WorkspaceEntity } from './workspace-entity';
import { deletable } from './workspaces';

export interface DeletionReport {
  readonly id: string;
  readonly connectors: number;
  readonly tokens: number;
  readonly consoleMembers: number;
  readonly auditEntries: number;
}

export interface WorkspaceDeletionDeps {
  readonly dataSource: DataSource;
  readonly gate: Gate;
  readonly audit: AuditLog;
  readonly events: ConnectorEventPublisher;
  readonly workspaceEvents: WorkspaceEventPublisher;
  readonly logger: Logger;
  readonly now: () => Date;
}

/**
 * Deletes a workspace and everything the config service holds of it in one transaction:
 * connectors (remembered as deletions that purge their mail now), tokens, memberships (a
 * person left in no workspace is deleted, their sessions end), its audit entries and the
 * workspace. Then each connector's deletion goes to the connectors topic: fetchers stop
 * them, and the storage service purges their mail, chunks, log, dedupe keys and events at
 * its next purge run. The installation's audit log keeps one entry with the report.
 */
export async function deleteWorkspace(deps: WorkspaceDeletionDeps, id: string, actor: Actor): Promise<DeletionReport> {
  if (!deletable(id)) throw new PreconditionError(`workspace ${id} holds what existed before workspaces and the embedded default's data; it cannot be deleted (suspend it instead)`, { reason: 'WORKSPACE_NOT_DELETABLE' });
  const now = deps.now();
  const { report, connectorIds } = await deps.gate(() =>
    deps.dataSource.transaction(async (tx) => {
      const workspace = await tx.getRepository(WorkspaceEntity).findOneBy({ id });
      if (!workspace) throw new NotFoundError(`no workspace "${id}"`);
      const connectorIds = (await tx.getRepository(ConnectorEntity).find({ select: { id: true }, where: { workspaceId: id } })).map((c) => c.id);
      if (connectorIds.length) {
        await tx.getRepository(ConnectorEntity).delete({ workspaceId: id });
        await tx.getRepository(TombstoneEntity).save(connectorIds.map((cid) => ({ id: cid, purgeEmailsNow: true, deletedAt: now })));
      }
      const tokens = (await tx.getRepository(ApiTokenEntity).delete({ workspaceId: id })).affected ?? 0;
      const members = await tx.getRepository(MembershipEntity).findBy({ workspaceId: id });
      await tx.getRepository(MembershipEntity).delete({ workspaceId: id });
      for (const m of members) {
        const person = await tx.getRepository(ConsoleUserEntity).findOneBy({ name: m.userName });
        if (!person || person.installationAdmin || (await tx.getRepository(MembershipEntity).countBy({ userName: m.userName })) > 0) continue;
        await tx.getRepository(ConsoleUserEntity).delete({ name: m.userName });
        await tx.getRepository(ApiTokenEntity).delete({ consoleUser: m.userName });
      }
      const auditEntries = (await tx.getRepository(AuditEntity).delete({ workspaceId: id })).affected ?? 0;
      await tx.getRepository(WorkspaceEntity).delete({ id });
      const report: DeletionReport = { id, connectors: connectorIds.length, tokens, consoleMembers: members.length, auditEntries };
      await deps.audit.append(
        tx,
        { ...actor, workspace: '' },
        'WORKSPACE_DELETED',
        { type: 'workspace', id, name: workspace.displayName },
        `${report.connectors} connector(s) with their stored mail, ${report.tokens} token(s), ${report.consoleMembers} member(s), ${report.auditEntries} audit entries`,
      );
      return { report, connectorIds };
    }),
  );
  deps.logger.info({ ...report, by: actor.who }, 'workspace deleted');
  // Published after the commit; a crash in between is covered by the boot-time republish of tombstones.
  for (const cid of connectorIds) await deps.events.deleted(cid, true);
  await deps.workspaceEvents.deleted(id);
  return report;
}

/** Connectors per workspace, for lists of workspaces. */
export async function connectorCounts(ds: DataSource, gate: Gate, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows: Array<{ w: string; n: number | string }> = await gate(() =>
    ds.getRepository(ConnectorEntity).createQueryBuilder('c').select('c.workspace_id', 'w').addSelect('COUNT(*)', 'n').where({ workspaceId: In([...ids]) }).groupBy('c.workspace_id').getRawMany(),
  );
  return new Map(rows.map((r) => [r.w, Number(r.n)]));
}
