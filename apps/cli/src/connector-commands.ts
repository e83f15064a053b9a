import { Command, Option } from 'commander';
import { call } from '@postbote/grpc-runtime';
import { specToProto } from '@postbote/contract';
import { Secret } from '@postbote/crypto';
import { Connector, ConnectorSpec, Protocol, Security, enumKey } from '@postbote/proto';
import { clients } from './clients';
import { allConnectors, type Ctx } from './cli-context';
import { connectorJson, connectorLines, print, table } from './output';
import { forTerminal, oneLine } from './terminal';
import { CliUsageError, fileFlag, readStdin } from './cli-support';
import { connectorStatusCommand } from './status-command';

interface SpecFlags {
  name?: string;
  protocol?: string;
  host?: string;
  port?: string;
  username?: string;
  passwordStdin?: boolean;
  auth?: string;
  oauthProvider?: string;
  clientId?: string;
  clientSecretStdin?: boolean;
  clientSecretFile?: string;
  refreshTokenStdin?: boolean;
  refreshTokenFile?: string;
  tokenUrl?: string;
  scope?: string;
  proxy?: string;
  proxyPasswordStdin?: boolean;
  proxyPasswordFile?: string;
  security?: string;
  folder?: string;
  strategy?: string;
  moveTo?: string;
  interval?: string;
  batch?: string;
  retention?: string;
  connectTimeout?: string;
  fetchTimeout?: string;
  reprocess?: boolean;
  push?: boolean;
  workflow?: string;
  enabled?: boolean;
  trustedCa?: string;
}

/** An enum flag as the model spells it (commander already limited it to the choices): mark-read → MARK_READ. */
const enumFlag = (raw: string | undefined) => raw?.toUpperCase().replace(/-/g, '_');

function intFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new CliUsageError(`--${flag} must be a whole number`);
  return Number(raw);
}

/** A file named by a flag; a file that cannot be read is a usage error naming the flag. */

/** The flag that reads each secret from standard input, by the secret's API name (also for error hints). */
export const SECRET_STDIN_FLAGS = {
  password: '--password-stdin',
  oauth_client_secret: '--client-secret-stdin',
  oauth_refresh_token: '--refresh-token-stdin',
  proxy_password: '--proxy-password-stdin',
} as const;

/**
 * Secrets never travel on the command line, where ps and shell history would keep them:
 * they come from standard input or from a file (`/dev/fd/3` for a descriptor). Several
 * from standard input come one per line, in the order password, client secret, refresh token,
 * proxy password.
 */
async function secretsFrom(f: SpecFlags, readFile: (p: string) => string): Promise<{ password?: Secret; oauthClientSecret?: Secret; oauthRefreshToken?: Secret; proxyPassword?: Secret }> {
  const fromStdin = [f.passwordStdin, f.clientSecretStdin, f.refreshTokenStdin, f.proxyPasswordStdin].filter(Boolean).length;
  if (f.proxyPasswordStdin && f.proxyPasswordFile) throw new CliUsageError('give the proxy password with --proxy-password-stdin or --proxy-password-file, not both');
  if (f.clientSecretStdin && f.clientSecretFile) throw new CliUsageError('give the client secret with --client-secret-stdin or --client-secret-file, not both');
  if (f.refreshTokenStdin && f.refreshTokenFile) throw new CliUsageError('give the refresh token with --refresh-token-stdin or --refresh-token-file, not both');
  const lines = fromStdin === 0 ? [] : fromStdin === 1 ? [await readStdin()] : (await readStdin()).split(/\r?\n/);
  if (fromStdin > 1 && lines.length < fromStdin) throw new CliUsageError(`${fromStdin} secrets from standard input need ${fromStdin} lines (password, client secret, refresh token, proxy password, in this order)`);
  const next = () => new Secret(lines.shift() ?? '');
  const file = (flag: string, path: string) => new Secret(fileFlag(flag, path, readFile).replace(/\r?\n$/, ''));
  return {
    password: f.passwordStdin ? next() : undefined,
    oauthClientSecret: f.clientSecretStdin ? next() : f.clientSecretFile ? file('client-secret-file', f.clientSecretFile) : undefined,
    oauthRefreshToken: f.refreshTokenStdin ? next() : f.refreshTokenFile ? file('refresh-token-file', f.refreshTokenFile) : undefined,
    proxyPassword: f.proxyPasswordStdin ? next() : f.proxyPasswordFile ? file('proxy-password-file', f.proxyPasswordFile) : undefined,
  };
}

async function specFrom(f: SpecFlags, readFile: (p: string) => string): Promise<ConnectorSpec> {
  return specToProto({
    name: f.name,
    protocol: enumFlag(f.protocol),
    host: f.host,
    port: intFlag('port', f.port),
    username: f.username,
    ...(await secretsFrom(f, readFile)),
    authType: enumFlag(f.auth),
    oauthProvider: enumFlag(f.oauthProvider),
    oauthClientId: f.clientId,
    oauthTokenUrl: f.tokenUrl,
    oauthScope: f.scope,
    proxyUrl: f.proxy,
    security: enumFlag(f.security),
    folder: f.folder,
    strategy: enumFlag(f.strategy),
    moveTo: f.moveTo,
    pollIntervalSeconds: intFlag('interval', f.interval),
    batchSize: intFlag('batch', f.batch),
    retentionDays: intFlag('retention', f.retention),
    connectTimeoutMs: intFlag('connect-timeout', f.connectTimeout),
    fetchTimeoutMs: intFlag('fetch-timeout', f.fetchTimeout),
    reprocess: f.reprocess,
    push: f.push,
    workflowId: f.workflow,
    enabled: f.enabled,
    trustedCaPem: f.trustedCa === undefined ? undefined : f.trustedCa === '' ? '' : fileFlag('trusted-ca', f.trustedCa, readFile),
  });
}

function specOptions(cmd: Command, creating: boolean): Command {
  return cmd
    .option('--name <name>', 'unique connector name')
    .addOption(new Option('--protocol <protocol>', 'mail protocol').choices(['POP3', 'IMAP', 'pop3', 'imap']))
    .option('--host <host>', 'mail server host name or IP')
    .option('--port <port>', 'port (default from protocol+security: POP3 110/995, IMAP 143/993)')
    .option('--username <user>', 'login name')
    .option('--password-stdin', 'read the password from standard input (it is never accepted as an argument)')
    .addOption(new Option('--auth <type>', 'login: PASSWORD (default) or OAUTH2 (Microsoft 365, Gmail)').choices(['PASSWORD', 'OAUTH2', 'password', 'oauth2']))
    .addOption(new Option('--oauth-provider <provider>', 'OAuth2: MICROSOFT or GOOGLE fill in token URL, scope and server; CUSTOM needs --token-url').choices(['MICROSOFT', 'GOOGLE', 'CUSTOM', 'microsoft', 'google', 'custom']))
    .option('--client-id <id>', 'OAuth2: the application (client) ID')
    .option('--client-secret-stdin', 'OAuth2: read the client secret from standard input')
    .option('--client-secret-file <path>', 'OAuth2: read the client secret from a file (or /dev/fd/N)')
    .option('--refresh-token-stdin', 'OAuth2: read the refresh token from standard input')
    .option('--refresh-token-file <path>', 'OAuth2: read the refresh token from a file (or /dev/fd/N)')
    .option('--token-url <url>', 'OAuth2: token endpoint (https), when not the provider\'s')
    .option('--proxy <url>', 'reach the server through socks5://[user@]host:port or http://[user@]host:port ("" for direct)')
    .option('--proxy-password-stdin', 'read the proxy password from standard input')
    .option('--proxy-password-file <path>', 'read the proxy password from a file (or /dev/fd/N)')
    .option('--scope <scopes>', 'OAuth2: scopes asked for on refresh, space-separated ("" for the grant\'s own)')
    .addOption(new Option('--security <mode>', 'NONE (discouraged), SSL (implicit TLS) or TLS (STARTTLS)').choices(['NONE', 'SSL', 'TLS', 'none', 'ssl', 'tls']))
    .option('--folder <path>', 'IMAP folder to watch, subfolders with "/" (default INBOX)')
    .addOption(new Option('--strategy <strategy>', 'IMAP: after storing, MARK_READ, DELETE or MOVE').choices(['MARK_READ', 'DELETE', 'MOVE', 'mark_read', 'delete', 'move', 'mark-read']))
    .option('--move-to <path>', 'IMAP: target folder for MOVE')
    .option('--interval <seconds>', 'polling interval in seconds (min 10, default 60)')
    .option('--batch <n>', 'emails per run (default 50)')
    .option('--retention <days>', 'days stored emails are kept (default 30)')
    .option('--connect-timeout <ms>', 'connection timeout in ms (default 30000)')
    .option('--fetch-timeout <ms>', 'fetch timeout in ms (default 300000)')
    .option('--reprocess', 'process an email again when the mailbox presents it as new again')
    .option('--no-reprocess', 'never process an already stored email again')
    .option('--push', 'IMAP: fetch as soon as the server announces new mail (IDLE; the default)')
    .option('--no-push', 'IMAP: only poll at the interval')
    .option('--workflow <id>', 'workflow to start for each email')
    .option('--trusted-ca <file>', 'PEM file of CAs to trust for this server ("" to clear)')
    .option(creating ? '--disabled' : '--enable', creating ? 'create the connector disabled' : 'enable the connector');
}

export function connectorCommand(ctx: Ctx & { readFile: (p: string) => string }): Command {
  const cmd = new Command('connector').description('create and manage email connectors');
  const client = () => clients.config(ctx);
  const show = (c: Connector, warnings: readonly string[] = []) => {
    print(ctx.json(), { connector: connectorJson(c), warnings }, () => connectorLines(c));
    for (const w of warnings) process.stderr.write(`warning: ${forTerminal(w)}\n`);
  };

  specOptions(cmd.command('create').description('create a connector (password from --password-stdin; OAuth2: refresh token from --refresh-token-stdin)'), true).action(async (f: SpecFlags & { disabled?: boolean }) => {
    if (enumFlag(f.auth) === 'OAUTH2') {
      if (!f.refreshTokenStdin && !f.refreshTokenFile) throw new CliUsageError('--refresh-token-stdin (or --refresh-token-file) is required with --auth oauth2');
    } else if (!f.passwordStdin) {
      throw new CliUsageError('--password-stdin is required: pipe the password in, e.g. `printf %s "$PW" | postbote connector create … --password-stdin`');
    }
    const spec = await specFrom({ ...f, enabled: f.disabled ? false : undefined }, ctx.readFile);
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

  specOptions(cmd.command('update <connector>').description('change settings; unset flags keep their value, secrets only with --password-stdin, --client-secret-stdin or --refresh-token-stdin'), false)
    .option('--disable', 'disable the connector')
    .action(async (ref: string, f: SpecFlags & { enable?: boolean; disable?: boolean }) => {
      if (f.enable && f.disable) throw new CliUsageError('--enable and --disable exclude each other');
      const spec = await specFrom({ ...f, enabled: f.enable ? true : f.disable ? false : undefined }, ctx.readFile);
      const c = client();
      const res = await call(c.updateConnector, c, { ref, spec });
      show(Connector.fromPartial(res.connector ?? {}), res.warnings);
    });

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
