import { TOPICS, type Bus, type Subscription } from '@postbote/bus';
import { WorkspaceChanged, WorkspaceChanged_Kind, WorkspaceState } from '@postbote/proto';
import type { Supervisor } from './supervisor';

/**
 * Every fetcher follows the whole workspaces topic (a group of its own, like the fleet view):
 * whichever connectors it owns, it must know their workspace's state and quota of runs.
 */
export async function followWorkspaces(bus: Bus, instanceId: string, supervisor: Pick<Supervisor, 'workspaceChanged'>): Promise<Subscription> {
  await bus.ensureTopics([{ topic: TOPICS.workspaces, compacted: true }]);
  return bus.subscribe({ topic: TOPICS.workspaces, groupId: `postbote-workspaces-${instanceId}`, fromBeginning: true }, async (m) => {
    if (!m.value || m.value.length === 0) return;
    const e = WorkspaceChanged.decode(m.value);
    if (e.kind === WorkspaceChanged_Kind.DELETED) return supervisor.workspaceChanged(e.workspaceId, null);
    if (e.kind !== WorkspaceChanged_Kind.UPSERTED || !e.workspace) return;
    supervisor.workspaceChanged(e.workspaceId, { suspended: e.workspace.state === WorkspaceState.SUSPENDED, maxConcurrentRuns: e.workspace.quotas?.maxConcurrentRuns ?? 0 });
  });
}
