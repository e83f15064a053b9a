import { isInstallationAdmin } from '@postbote/auth';
import { unary, type ServiceRegistration } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { WorkspaceServiceService, type Workspace, type WorkspaceQuotas, type WorkspaceServiceServer } from '@postbote/proto';
import type { DataSource } from 'typeorm';
import type { Gate } from '@postbote/db';
import { actorOf, workspaceOf } from './access-grpc';
import { connectorCounts, deleteWorkspace, type WorkspaceDeletionDeps } from './workspace-deletion';
import { workspaceToProto, type Quotas, type WorkspaceRecord, type Workspaces } from './workspaces';

/** WorkspaceService: members list and read theirs; installation admins manage all (see the permission table). */
export function workspaceService(workspaces: Workspaces, deletion: WorkspaceDeletionDeps & { readonly dataSource: DataSource; readonly gate: Gate }, logger: Logger): ServiceRegistration {
  const withCounts = async (records: readonly WorkspaceRecord[]): Promise<Workspace[]> => {
    const counts = await connectorCounts(deletion.dataSource, deletion.gate, records.map((w) => w.id));
    return records.map((w) => workspaceToProto(w, counts.get(w.id) ?? 0));
  };
  const one = async (record: WorkspaceRecord): Promise<Workspace> => workspaceToProto(record, (await connectorCounts(deletion.dataSource, deletion.gate, [record.id])).get(record.id) ?? 0);
  const implementation: WorkspaceServiceServer = {
    listWorkspaces: unary(logger, 'ListWorkspaces', async (_req, ctx) => {
      const p = ctx.principal;
      const ids = isInstallationAdmin(p) ? ('every' as const) : p.kind === 'token' && !p.access.installationAdmin ? [...p.access.roles.keys()] : [];
      return { workspaces: await withCounts(await workspaces.list(ids)) };
    }),
    getWorkspace: unary(logger, 'GetWorkspace', async (_req, ctx) => one(await workspaces.get(workspaceOf(ctx)))),
    createWorkspace: unary(logger, 'CreateWorkspace', async (req, ctx) =>
      workspaceToProto(await workspaces.create({ id: req.id, displayName: req.displayName, quotas: quotasFromProto(req.quotas) }, actorOf(ctx)), 0),
    ),
    updateWorkspace: unary(logger, 'UpdateWorkspace', async (req, ctx) => one(await workspaces.update(req.id, { displayName: req.displayName, quotas: quotasFromProto(req.quotas) }, actorOf(ctx)))),
    suspendWorkspace: unary(logger, 'SuspendWorkspace', async (req, ctx) => one(await workspaces.suspend(req.id, req.reason, actorOf(ctx)))),
    resumeWorkspace: unary(logger, 'ResumeWorkspace', async (req, ctx) => one(await workspaces.resume(req.id, actorOf(ctx)))),
    deleteWorkspace: unary(logger, 'DeleteWorkspace', async (req, ctx) => deleteWorkspace(deletion, (await workspaces.get(req.id)).id, actorOf(ctx))),
  };
  return { name: 'postbote.v1.WorkspaceService', definition: WorkspaceServiceService, implementation };
}

function quotasFromProto(q: WorkspaceQuotas | undefined): Partial<Quotas> {
  return { ...(q ?? {}) };
}
