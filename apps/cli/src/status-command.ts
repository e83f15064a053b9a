import { Command } from 'commander';
import { call } from '@postbote/grpc-runtime';
import { ConnectorState, enumKey, type Connector, type ConnectorStatus } from '@postbote/proto';
import { allConnectors, type Ctx } from './cli-context';
import { clients } from './clients';
import { print, table } from './output';

const DAY_MS = 24 * 60 * 60 * 1000;

/** One connector's status as `postbote connector status` shows it (and prints with --json). */
export interface StatusView {
  readonly id: string;
  readonly name: string;
  /** The actor's state, DISABLED, or NOT_RUNNING when no fetcher reports the connector (starting, rebalancing, no fetcher). */
  readonly state: string;
  readonly mode: 'push' | 'poll' | '';
  readonly lastSuccessAt: string | null;
  readonly lastError: string;
  readonly lastErrorAt: string | null;
  readonly emailsToday: number | null;
  readonly emailsLast7Days: number | null;
  readonly lastStoredAt: string | null;
  readonly backlog: number | null;
  readonly fetcher: string;
}

/** Every fetcher's report of the connectors it runs; empty when no fetcher answers (the view says so). */
async function actors(ctx: Ctx): Promise<Map<string, { status: ConnectorStatus; fetcher: string }>> {
  const f = clients.fetcher(ctx);
  const out = new Map<string, { status: ConnectorStatus; fetcher: string }>();
  const res = await call(f.listFetchers, f, {}, { deadlineMs: 10_000 }).catch(() => ({ instances: [] }));
  for (const i of res.instances) for (const s of i.connectors) out.set(s.connectorId, { status: s, fetcher: i.instanceId });
  return out;
}

function startOfLocalDay(now: Date): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate());
}

async function view(ctx: Ctx, c: Connector, running: Map<string, { status: ConnectorStatus; fetcher: string }>, now: Date): Promise<StatusView> {
  const s = clients.storage(ctx);
  const counts = await call(s.countEmails, s, { connectorId: c.id, since: [startOfLocalDay(now), new Date(now.getTime() - 7 * DAY_MS)] }, { deadlineMs: 10_000 }).catch(() => undefined);
  const actor = running.get(c.id);
  const st = actor?.status;
  return {
    id: c.id,
    name: c.name,
    state: st ? enumKey(ConnectorState, st.state) : c.enabled ? 'NOT_RUNNING' : 'DISABLED',
    mode: st ? (st.push ? 'push' : 'poll') : '',
    lastSuccessAt: st?.lastSuccessAt?.toISOString() ?? null,
    lastError: st?.lastError ?? '',
    lastErrorAt: st?.lastErrorAt?.toISOString() ?? null,
    emailsToday: counts ? Number(counts.counts[0] ?? 0) : null,
    emailsLast7Days: counts ? Number(counts.counts[1] ?? 0) : null,
    lastStoredAt: counts?.lastStoredAt?.toISOString() ?? null,
    backlog: st ? st.backlog : null,
    fetcher: actor?.fetcher ?? '',
  };
}

const orDash = (v: string | number | null) => (v === null || v === '' ? '-' : String(v));

function lines(v: StatusView): string {
  const rows: Array<[string, string]> = [
    ['Name', v.name],
    ['State', v.state],
    ['Mode', v.mode === 'push' ? 'push (IMAP IDLE)' : orDash(v.mode)],
    ['Last success', v.lastSuccessAt ?? 'never'],
    ['Last error', v.lastError ? `${v.lastErrorAt ?? ''}  ${v.lastError}`.trim() : '-'],
    ['Emails today', orDash(v.emailsToday)],
    ['Emails 7 days', orDash(v.emailsLast7Days)],
    ['Last stored', v.lastStoredAt ?? 'never'],
    ['Backlog', v.backlog === null ? '-' : v.backlog === 0 ? '0' : `${v.backlog} (next run)`],
    ['Fetcher', orDash(v.fetcher)],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, val]) => `${k.padEnd(width)}  ${val}`).join('\n');
}

/** `postbote connector status [connector]`: how a connector is doing, from the config, fetcher and storage services. */
export function connectorStatusCommand(ctx: Ctx): Command {
  return new Command('status')
    .argument('[connector]', 'id or name (default: every connector)')
    .description('state, push or poll, last success and error, emails today and in 7 days, backlog')
    .action(async (ref?: string) => {
      const config = clients.config(ctx);
      const connectors = ref ? [await call(config.getConnector, config, { ref })] : await allConnectors(ctx);
      const running = await actors(ctx);
      const now = new Date();
      const views = await Promise.all(connectors.map((c) => view(ctx, c, running, now)));
      print(ctx.json(), { connectors: views }, () =>
        ref && views[0]
          ? lines(views[0])
          : table(
              ['NAME', 'STATE', 'MODE', 'LAST SUCCESS', 'TODAY', '7 DAYS', 'BACKLOG', 'LAST ERROR'],
              views.map((v) => [v.name, v.state, orDash(v.mode), v.lastSuccessAt ?? 'never', orDash(v.emailsToday), orDash(v.emailsLast7Days), orDash(v.backlog), v.lastError]),
            ),
      );
    });
}
