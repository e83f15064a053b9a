import { Command } from 'commander';
import { call } from '@postbote/grpc-runtime';
import { ConnectorState, enumKey } from '@postbote/proto';
import { allConnectors, type Ctx } from './cli-context';
import { clients } from './clients';
import { print, table } from './output';

/** Connector names by id, as far as the config service can say (ids stand in when it cannot). */
async function connectorNames(ctx: Ctx): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  try {
    for (const x of await allConnectors(ctx)) names.set(x.id, x.name);
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
