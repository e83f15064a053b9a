import { Command } from 'commander';
import { call } from '@postbote/grpc-runtime';
import { specToProto } from '@postbote/contract';
import { Connector, Protocol, Security, enumKey } from '@postbote/proto';
import { clients } from './clients';
import { allConnectors, type Ctx } from './cli-context';
import { connectorJson, connectorLines, print, table } from './output';
import { forTerminal, oneLine } from './terminal';
import { CliUsageError } from './cli-support';
import { givesSecret, specFromFlags, specOptions, type SpecFlags } from './spec-flags';
import { connectorStatusCommand } from './status-command';

export function connectorCommand(ctx: Ctx & { readFile: (p: string) => string }): Command {
  const cmd = new Command('connector').description('create and manage email connectors');
  const client = () => clients.config(ctx);
  const show = (c: Connector, warnings: readonly string[] = []) => {
    print(ctx.json(), { connector: connectorJson(c), warnings }, () => connectorLines(c));
    for (const w of warnings) process.stderr.write(`warning: ${forTerminal(w)}\n`);
  };

  specOptions(cmd.command('create').description('create a connector (password from --password-stdin; OAuth2: refresh token from --refresh-token-stdin)'))
    .option('--disabled', 'create it disabled (the same as --disable)')
    .action(async (f: SpecFlags) => {
      const flags: SpecFlags = { ...f, disable: f['disable'] || f['disabled'] };
      const oauth = String(flags['auth'] ?? '').toUpperCase() === 'OAUTH2';
      if (oauth && !givesSecret(flags, 'oauthRefreshToken')) throw new CliUsageError('--refresh-token-stdin (or --refresh-token-file) is required with --auth oauth2');
      if (!oauth && !givesSecret(flags, 'password')) {
        throw new CliUsageError('--password-stdin is required: pipe the password in, e.g. `printf %s "$PW" | postbote connector create … --password-stdin`');
      }
      const spec = specToProto(await specFromFlags(flags, ctx.readFile));
      const c = client();
      const res = await call(c.createConnector, c, { spec });
      show(Connector.fromPartial(res.connector ?? {}), res.warnings);
    });

  cmd
    .command('list')
    .description('list connectors')
    .action(async () => {
      const all = await allConnectors(ctx);
      print(ctx.json(), { connectors: all.map(connectorJson) }, () =>
        table(
          ['ID', 'NAME', 'PROTOCOL', 'SERVER', 'SECURITY', 'ENABLED', 'WORKFLOW'],
          all.map((x) => [x.id, x.name, enumKey(Protocol, x.protocol), `${x.host}:${x.port}`, enumKey(Security, x.security), String(x.enabled), x.workflowId]),
        ),
      );
    });

  cmd
    .command('get <connector>')
    .description('show one connector (by id or name)')
    .action(async (ref: string) => {
      const c = client();
      show(await call(c.getConnector, c, { ref }));
    });

  specOptions(cmd.command('update <connector>').description('change settings; unset flags keep their value, secrets only when given (--password-stdin, --refresh-token-stdin, …)')).action(
    async (ref: string, f: SpecFlags) => {
      const spec = specToProto(await specFromFlags(f, ctx.readFile));
      const c = client();
      const res = await call(c.updateConnector, c, { ref, spec });
      show(Connector.fromPartial(res.connector ?? {}), res.warnings);
    },
  );

  cmd
    .command('delete <connector>')
    .description('delete a connector; its emails go after its retention period')
    .option('--purge-emails', 'delete its stored emails at once')
    .action(async (ref: string, f: { purgeEmails?: boolean }) => {
      const c = client();
      const res = await call(c.deleteConnector, c, { ref, purgeEmailsNow: Boolean(f.purgeEmails) });
      print(ctx.json(), res, () => `deleted ${res.id}`);
    });

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    cmd
      .command(`${name} <connector>`)
      .description(`${name} polling for a connector`)
      .action(async (ref: string) => {
        const c = client();
        show(await call(c.setConnectorEnabled, c, { ref, enabled }));
      });
  }

  cmd
    .command('test <connector>')
    .description('connect to the mail server and report each step')
    .action(async (ref: string) => {
      const c = client();
      const res = await call(c.testConnection, c, { target: { $case: 'ref', value: ref }, overrides: undefined }, { deadlineMs: 120_000 });
      print(ctx.json(), res, () => res.steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'} ${s.name.padEnd(9)} ${s.durationMs}ms  ${oneLine(s.detail)}`).join('\n'));
      if (!res.ok) process.exitCode = 1;
    });

  cmd.addCommand(connectorStatusCommand(ctx));

  cmd
    .command('folders <connector>')
    .description('list the IMAP folders of a connector\'s mailbox ("/" notation)')
    .action(async (ref: string) => {
      const c = client();
      const res = await call(c.listFolders, c, { target: { $case: 'ref', value: ref } }, { deadlineMs: 120_000 });
      print(ctx.json(), res, () => res.folders.join('\n'));
    });

  return cmd;
}
