#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { PostboteError } from '@postbote/errors';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { auditCommand, tokensCommand, whoamiCommand } from './access-commands';
import { certsCommand } from './certs-command';
import { consoleCommand } from './console-command';
import { addressesFrom, authFrom } from './clients';
import { connectorCommand } from './connector-commands';
import { flagOfApi, withFlagNames } from './spec-flags';
import { CliUsageError } from './cli-support';
import { emailsCommand } from './emails-commands';
import { eventsCommand } from './events-command';
import { fetchersCommand } from './fetchers-command';
import { keysCommand } from './keys-command';
import { logCommand } from './log-command';
import { storageCommand } from './storage-command';
import { workspacesCommand } from './workspaces-command';
import { forTerminal } from './terminal';

const program = new Command('postbote')
  .description('Postbote: mailbox connectors that start workflows')
  .option('--json', 'machine-readable JSON output')
  .option('--config-addr <host:port>', 'config service (env CONFIG_SERVICE_ADDR)')
  .option('--storage-addr <host:port>', 'storage service (env STORAGE_SERVICE_ADDR)')
  .option('--trigger-addr <host:port>', 'trigger service (env TRIGGER_SERVICE_ADDR)')
  .option('--fetcher-addr <host:port>', 'fetcher service (env FETCHER_SERVICE_ADDR)')
  .option('-w, --workspace <id>', 'the workspace to act in (env POSTBOTE_WORKSPACE; default: your token\'s own, an installation admin\'s is "default")')
  .showHelpAfterError();

const opts = () => program.opts<{ json?: boolean; configAddr?: string; storageAddr?: string; triggerAddr?: string; fetcherAddr?: string; workspace?: string }>();
const ctx = {
  json: () => Boolean(opts().json),
  addresses: () => {
    const o = opts();
    const env = addressesFrom(process.env);
    return {
      config: o.configAddr ?? env.config,
      storage: o.storageAddr ?? env.storage,
      trigger: o.triggerAddr ?? env.trigger,
      fetcher: o.fetcherAddr ?? env.fetcher,
    };
  },
  auth: () => (auth ??= authFrom(process.env, (line) => process.stderr.write(`${line}\n`), opts().workspace)),
  readFile: (p: string) => readFileSync(p, 'utf8'),
};
let auth: ReturnType<typeof authFrom> | undefined;

program.addCommand(
  new Command('start').description('run all services in one process (embedded default: SQLite + in-process bus)').action(() => {
    // Loaded only here: every other command answers without loading the services.
    const bundled = join(__dirname, 'all-in-one.js');
    const { runAllInOne } = require(existsSync(bundled) ? bundled : join(__dirname, 'all-in-one.ts')) as typeof import('./all-in-one');
    runAllInOne();
  }),
);
program.addCommand(connectorCommand(ctx));
program.addCommand(emailsCommand(ctx));
program.addCommand(logCommand(ctx));
program.addCommand(eventsCommand(ctx));
program.addCommand(keysCommand(ctx));
program.addCommand(fetchersCommand(ctx));
program.addCommand(tokensCommand(ctx));
program.addCommand(auditCommand(ctx));
program.addCommand(whoamiCommand(ctx));
program.addCommand(consoleCommand(ctx));
program.addCommand(workspacesCommand(ctx));
program.addCommand(storageCommand(ctx));
program.addCommand(certsCommand());

// Usage mistakes (unknown option, bad choice, missing argument) exit 2 like every other
// bad input; commander has already printed what was wrong. Help and version exit 0.
const overrideExits = (cmd: Command): void => {
  cmd.exitOverride();
  for (const sub of cmd.commands) overrideExits(sub);
};
overrideExits(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    process.exit(err.exitCode === 0 ? 0 : 2);
  }
  if (err instanceof CliUsageError) {
    process.stderr.write(`error: ${forTerminal(err.message)}\n`);
    process.exit(2);
  }
  if (err instanceof PostboteError) {
    const hint =
      err.code === 'UNAVAILABLE' && !err.reason
        ? ' (is Postbote running? start it with `npm start`, or set the *_SERVICE_ADDR variables)'
        : err.code === 'UNAUTHENTICATED'
          ? ' (set POSTBOTE_TOKEN, or run where `npm start` keeps its data: it writes data/admin.token on first start)'
          : err.reason === 'PASSWORD_REQUIRED'
            ? ` (pass ${secretFlagsNamed(err.message)})`
            : '';
    process.stderr.write(`error: ${err.code}: ${forTerminal(withFlagNames(err.message))}${hint}\n`);
    process.exit(err.code === 'INVALID_ARGUMENT' || err.code === 'ALREADY_EXISTS' ? 2 : 1);
  }
  process.stderr.write(`error: ${forTerminal(String((err as Error)?.message ?? err))}\n`);
  process.exit(1);
});

/** The flags that carry the secrets an error names: "spec.password, spec.oauth_client_secret: …" → "--password-stdin, --client-secret-stdin". */
function secretFlagsNamed(message: string): string {
  const fields = message.split(':')[0] ?? '';
  const flags = [...fields.matchAll(/spec\.([a-z_]+)/g)].map((m) => flagOfApi(m[1] ?? '')).filter((x) => x !== undefined);
  return flags.length > 1 ? `them with ${flags.join(' and ')}` : `it with ${flags[0] ?? '--password-stdin'}`;
}
