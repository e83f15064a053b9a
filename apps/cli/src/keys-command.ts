import { Command } from 'commander';
import { call } from '@postbote/grpc-runtime';
import type { Ctx } from './cli-context';
import { clients } from './clients';
import { print } from './output';

export function keysCommand(ctx: Ctx): Command {
  const cmd = new Command('keys').description('master keys of the stored credentials');
  cmd
    .command('rotate')
    .description('re-encrypt every stored password under the active key (embedded default: mint a new key first)')
    .action(async () => {
      const c = clients.config(ctx);
      const res = await call(c.rotateKeys, c, {}, { deadlineMs: 600_000 });
      print(ctx.json(), res, () => `active key ${res.activeKeyId}; re-encrypted ${res.reencrypted} secret(s)`);
    });
  return cmd;
}
