import { Command, Option } from 'commander';
import { CONSOLE_ROLES, INSTALLATION_ADMIN, type ConsoleRole } from '@postbote/auth';
import { roleFromProto, roleToProto } from '@postbote/contract';
import { call } from '@postbote/grpc-runtime';
import { ConsoleUser } from '@postbote/proto';
import { day } from './access-commands';
import type { Ctx } from './cli-context';
import { CliUsageError, fileFlag, readStdin } from './cli-support';
import { clients } from './clients';
import { print, table } from './output';

/** `postbote console …`: the web console's users (admin). */
export function consoleCommand(ctx: Ctx & { readFile: (p: string) => string }): Command {
  const cmd = new Command('console').description('web console people of a workspace (admin): add-user, users, remove-user');
  cmd
    .command('add-user <name>')
    .description('add a person to the workspace (--workspace) who signs in to the web console (the password never as an argument)')
    .addOption(new Option('--role <role>', 'what they may do there: the same roles as API tokens (installation-admin: everywhere)').choices([...CONSOLE_ROLES, INSTALLATION_ADMIN]).makeOptionMandatory())
    .option('--password-stdin', 'read the password (12 or more characters) from standard input')
    .option('--password-file <path>', 'read the password from a file (or /dev/fd/N)')
    .option('--existing', 'the person exists (in another workspace): add them with their own password')
    .option('--replace', 'they are a member already: set this role (and password, if given; their sessions end)')
    .action(async (name: string, o: { role: ConsoleRole | typeof INSTALLATION_ADMIN; passwordStdin?: boolean; passwordFile?: string; existing?: boolean; replace?: boolean }) => {
      const given = Number(Boolean(o.passwordStdin)) + Number(Boolean(o.passwordFile));
      if (given > 1) throw new CliUsageError('give the password with --password-stdin or --password-file, not both');
      if (given === 0 && !o.existing && !o.replace) throw new CliUsageError('give the password with --password-stdin or --password-file (or --existing for a person who has one)');
      if (given === 1 && o.existing) throw new CliUsageError('--existing adds a person with their own password: give none');
      const password = o.passwordStdin ? await readStdin() : o.passwordFile ? fileFlag('password-file', o.passwordFile, ctx.readFile).replace(/\r?\n$/, '') : '';
      const c = clients.consoleUsers(ctx);
      const u = await call(c.addConsoleUser, c, { name, role: roleToProto(o.role), password, replace: Boolean(o.replace) });
      print(ctx.json(), ConsoleUser.toJSON(u), () => `console user ${u.name} (${roleFromProto(u.role)}) ${o.replace ? 'updated' : 'added'}; they sign in at the console's URL (printed by \`postbote start\`)`);
    });
  cmd
    .command('users')
    .description('the console users (never their passwords)')
    .action(async () => {
      const c = clients.consoleUsers(ctx);
      const res = await call(c.listConsoleUsers, c, {});
      print(ctx.json(), res.users.map((u) => ConsoleUser.toJSON(u)), () =>
        table(['NAME', 'ROLE', 'CREATED', 'CREATED BY', 'LAST SIGN-IN'], res.users.map((u) => [u.name, roleFromProto(u.role), day(u.createdAt), u.createdBy, day(u.lastSignInAt)])),
      );
    });
  cmd
    .command('remove-user <name>')
    .description('remove a console user; their open sessions end')
    .action(async (name: string) => {
      const c = clients.consoleUsers(ctx);
      const u = await call(c.removeConsoleUser, c, { name });
      print(ctx.json(), ConsoleUser.toJSON(u), () => `console user ${u.name} removed`);
    });
  return cmd;
}
