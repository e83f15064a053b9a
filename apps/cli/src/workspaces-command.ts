import { Command } from 'commander';
import { call, connect } from '@postbote/grpc-runtime';
import { DeleteWorkspaceResponse, StorageServiceClient, Workspace, WorkspaceServiceClient, WorkspaceState, WorkspaceUsage, enumKey, type WorkspaceQuotas } from '@postbote/proto';
import { day } from './access-commands';
import type { Ctx } from './cli-context';
import { CliUsageError } from './cli-support';
import { clients } from './clients';
import { print, table } from './output';

/** The quota flags, each with its API field and how a person writes it. */
const QUOTA_FLAGS = [
  { flag: 'max-connectors', key: 'maxConnectors', help: 'connectors the workspace may have', bytes: false },
  { flag: 'min-interval', key: 'minPollIntervalSeconds', help: 'shortest poll interval of its connectors, in seconds', bytes: false },
  { flag: 'max-runs', key: 'maxConcurrentRuns', help: 'runs of its connectors at once, per fetcher', bytes: false },
  { flag: 'tests-per-minute', key: 'connectionTestsPerMinute', help: 'connection tests and folder lists a minute', bytes: false },
  { flag: 'max-stored-bytes', key: 'maxStoredBytes', help: 'stored mail, e.g. 50G (K, M, G, T: powers of 1024)', bytes: true },
] as const satisfies ReadonlyArray<{ flag: string; key: keyof WorkspaceQuotas; help: string; bytes: boolean }>;

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

function quotaValue(flag: string, raw: string, bytes: boolean): number {
  const m = bytes ? /^(\d+)\s*([KMGT]?)(?:i?B)?$/i.exec(raw.trim()) : /^(\d+)()$/.exec(raw.trim());
  const n = m ? Number(m[1]) * (UNITS[(m[2] ?? '').toUpperCase()] ?? 1) : NaN;
  if (!Number.isSafeInteger(n)) throw new CliUsageError(`--${flag} must be a whole number${bytes ? ' of bytes (K, M, G, T allowed)' : ''}, 0 for no limit`);
  return n;
}

function withQuotaFlags(cmd: Command): Command {
  for (const q of QUOTA_FLAGS) cmd.option(`--${q.flag} <n>`, `${q.help} (0: no limit)`);
  return cmd;
}

function quotasFrom(o: Record<string, string | undefined>): WorkspaceQuotas {
  const out: Record<string, number> = {};
  for (const q of QUOTA_FLAGS) {
    const raw = o[q.flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase())];
    if (raw !== undefined) out[q.key] = quotaValue(q.flag, raw, q.bytes);
  }
  return out;
}

const limit = (n: number | undefined, unit = '') => (n ? `${n}${unit}` : 'none');

function workspaceLines(w: Workspace, usage?: WorkspaceUsage): string {
  const q = w.quotas ?? {};
  const rows: Array<[string, string]> = [
    ['Id', w.id],
    ['Name', w.displayName],
    ['State', `${enumKey(WorkspaceState, w.state)}${w.suspendedReason ? ` (${w.suspendedReason}, since ${day(w.suspendedAt)})` : ''}`],
    ['Connectors', `${w.connectors} (limit ${limit(q.maxConnectors)})`],
    ['Shortest interval', limit(q.minPollIntervalSeconds, ' s')],
    ['Runs at once', `${limit(q.maxConcurrentRuns)} per fetcher`],
    ['Connection tests', limit(q.connectionTestsPerMinute, ' a minute')],
    ['Stored mail', usage ? `${usage.storedBytes} bytes in ${usage.storedEmails} emails (limit ${limit(q.maxStoredBytes, ' bytes')})` : `limit ${limit(q.maxStoredBytes, ' bytes')}`],
    ['Created', `${day(w.createdAt)} by ${w.createdBy}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** `postbote workspaces …`: the installation's customers (installation admins manage them; members read theirs). */
export function workspacesCommand(ctx: Ctx): Command {
  const cmd = new Command('workspaces').description('workspaces: one per customer (create, update, suspend, resume, delete: installation admins)');
  /** A client whose calls act in `id` (to read a workspace, its own scope is asked). */
  const inWorkspace = (id: string | undefined) => (id ? connect(WorkspaceServiceClient, ctx.addresses().config, { ...ctx.auth(), workspace: id }) : clients.workspaces(ctx));
  cmd
    .command('list')
    .description('the workspaces you may act in (an installation admin: all)')
    .action(async () => {
      const c = clients.workspaces(ctx);
      const res = await call(c.listWorkspaces, c, {});
      print(ctx.json(), res.workspaces.map((w) => Workspace.toJSON(w)), () =>
        table(
          ['ID', 'NAME', 'STATE', 'CONNECTORS', 'CREATED'],
          res.workspaces.map((w) => [w.id, w.displayName, enumKey(WorkspaceState, w.state), `${w.connectors}/${limit(w.quotas?.maxConnectors)}`, day(w.createdAt)]),
        ),
      );
    });
  cmd
    .command('show [id]')
    .description('a workspace with its limits (default: the one you act in)')
    .action(async (id: string | undefined) => {
      const c = inWorkspace(id);
      const w = await call(c.getWorkspace, c, {});
      const s = connect(StorageServiceClient, ctx.addresses().storage, { ...ctx.auth(), ...(id ? { workspace: id } : {}) });
      const usage = await call(s.getWorkspaceUsage, s, {});
      print(ctx.json(), { ...(Workspace.toJSON(w) as object), usage: WorkspaceUsage.toJSON(usage) }, () => workspaceLines(w, usage));
    });
  withQuotaFlags(cmd.command('create <id>').description('a new workspace (its id never changes: events name it)').requiredOption('--name <name>', 'the customer, as people read it')).action(
    async (id: string, o: Record<string, string | undefined>) => {
      const c = clients.workspaces(ctx);
      const w = await call(c.createWorkspace, c, { id, displayName: o['name'] ?? '', quotas: quotasFrom(o) });
      print(ctx.json(), Workspace.toJSON(w), () => `${workspaceLines(w)}\n\nworkspace ${w.id} created; give it an admin: postbote --workspace ${w.id} tokens create --name NAME --role admin`);
    },
  );
  withQuotaFlags(cmd.command('update <id>').description('change its name or limits').option('--name <name>', 'the customer, as people read it')).action(async (id: string, o: Record<string, string | undefined>) => {
    const c = clients.workspaces(ctx);
    const w = await call(c.updateWorkspace, c, { id, displayName: o['name'], quotas: quotasFrom(o) });
    print(ctx.json(), Workspace.toJSON(w), () => workspaceLines(w));
  });
  cmd
    .command('suspend <id>')
    .description('stop its connectors and every change in it; its data stays and can be read')
    .requiredOption('--reason <text>', 'shown to its members and in its audit log')
    .action(async (id: string, o: { reason: string }) => {
      const c = clients.workspaces(ctx);
      const w = await call(c.suspendWorkspace, c, { id, reason: o.reason });
      print(ctx.json(), Workspace.toJSON(w), () => `workspace ${w.id} suspended: its connectors stop polling`);
    });
  cmd
    .command('resume <id>')
    .description('let a suspended workspace poll and change again')
    .action(async (id: string) => {
      const c = clients.workspaces(ctx);
      const w = await call(c.resumeWorkspace, c, { id });
      print(ctx.json(), Workspace.toJSON(w), () => `workspace ${w.id} resumed`);
    });
  cmd
    .command('delete <id>')
    .description('delete a workspace with its connectors, stored mail, log, tokens and members')
    .option('--yes', 'really: nothing of it can be brought back')
    .action(async (id: string, o: { yes?: boolean }) => {
      if (!o.yes) throw new CliUsageError(`deleting workspace ${id} removes its connectors, stored mail, log, tokens and members for good; add --yes`);
      // What storage holds of it, read before it goes (the config service knows only its own part).
      const s = connect(StorageServiceClient, ctx.addresses().storage, { ...ctx.auth(), workspace: id });
      const usage = await call(s.getWorkspaceUsage, s, {});
      const c = clients.workspaces(ctx);
      const r = await call(c.deleteWorkspace, c, { id });
      print(ctx.json(), { ...(DeleteWorkspaceResponse.toJSON(r) as object), storedEmails: usage.storedEmails, storedBytes: usage.storedBytes }, () =>
        [
          `workspace ${r.id} deleted: ${r.connectors} connector(s), ${r.tokens} token(s), ${r.consoleMembers} console member(s), ${r.auditEntries} audit entries`,
          `its ${usage.storedEmails} stored email(s) (${usage.storedBytes} bytes) with their chunks, log and unpublished events are purged by the storage service within seconds`,
        ].join('\n'),
      );
    });
  return cmd;
}
