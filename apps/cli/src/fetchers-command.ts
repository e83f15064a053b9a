import { Command } from 'commander';
import { call } from '@postbote/grpc-runtime';
import { ConnectorState, enumKey } from '@postbote/proto';
import type { Ctx } from './cli-context';
import { clients } from './clients';
import { print, table } from './output';

/** Connector names by id, as far as the config service can say (ids stand in when it cannot). */
async function connectorNames(ctx: Ctx): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  try {
    const c = clients.config(ctx);
    let token = '';
    do {
      const page = await call(c.listConnectors, c, { pageSize: 1000, pageToken: token }, { deadlineMs: 5_000 });
      for (const x of page.connectors) names.set(x.id, x.name);
      token = page.nextPageToken;
    } while (token);
  } catch {
    // The fleet view is still worth showing with ids.
  }
  return names;
}

export function fetchersCommand(ctx: Ctx): Command {
  return new Command('fetchers').description('fetcher instances, their partitions and connector states').action(async () => {
    const c = clients.fetcher(ctx);
    const res = await call(c.listFetchers, c, {});
    const names = ctx.json() ? new Map<string, string>() : await connectorNames(ctx);
    print(ctx.json(), res, () =>
      res.instances
        .map(
          (i) =>
            `${i.instanceId} partitions=${i.partitions.join(',')}${i.sourceAddress ? ` source=${i.sourceAddress}` : ''}\n${table(
              ['CONNECTOR', 'STATE', 'MODE', 'LAST SUCCESS', 'LAST ERROR'],
              i.connectors.map((s) => [names.get(s.connectorId) ?? s.connectorId, enumKey(ConnectorState, s.state), s.push ? 'push' : 'poll', s.lastSuccessAt?.toISOString() ?? 'never', s.lastError]),
            )}`,
        )
        .join('\n\n'),
    );
  });
}
