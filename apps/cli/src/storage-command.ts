import { Command, InvalidArgumentError } from 'commander';
import { call } from '@postbote/grpc-runtime';
import type { MigrateBlobsFailure } from '@postbote/proto';
import type { Ctx } from './cli-context';
import { clients } from './clients';
import { print } from './output';
import { forTerminal } from './terminal';

/** One call's share of the migration: the server stops starting emails after ~20 s, far inside this. */
const CALL_DEADLINE_MS = 120_000;

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

function batchSize(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('must be a whole number from 1 to 10000');
  return n;
}

export function storageCommand(ctx: Ctx): Command {
  const cmd = new Command('storage').description('where raw mail is kept (installation admin)');
  cmd
    .command('migrate-blobs')
    .description('move raw mail kept in the database into the object store (MAIL_BLOBS_URL of the storage service); online, resumable, every email hash-verified')
    .option('--batch <n>', 'emails per call (1-10000)', batchSize, 500)
    .option('--after <email-id>', 'continue after this email id (printed by an interrupted run)')
    .action(async (o: { batch: number; after?: string }) => {
      const c = clients.storage(ctx);
      const progress = (line: string) => {
        if (!ctx.json()) process.stderr.write(`${forTerminal(line)}\n`);
      };
      const start = await call(c.migrateBlobs, c, { maxEmails: 0, afterEmailId: o.after ?? '' }, { deadlineMs: CALL_DEADLINE_MS });
      progress(`${start.remainingEmails} email(s), ${mib(start.remainingBytes)}, kept in the database`);
      let after = o.after ?? '';
      let emails = 0;
      let bytes = 0;
      const failures: MigrateBlobsFailure[] = [];
      for (let done = start.done; !done; ) {
        const res = await call(c.migrateBlobs, c, { maxEmails: o.batch, afterEmailId: after }, { deadlineMs: CALL_DEADLINE_MS });
        emails += res.migratedEmails;
        bytes += res.migratedBytes;
        failures.push(...res.failures);
        for (const f of res.failures) progress(`left in the database: ${f.emailId}: ${f.reason}: ${f.message}`);
        after = res.nextAfterEmailId;
        done = res.done;
        progress(`moved ${emails} of ${start.remainingEmails} (${mib(bytes)})${done ? '' : `; to continue after an interruption: --after ${after}`}`);
      }
      const left = await call(c.migrateBlobs, c, { maxEmails: 0, afterEmailId: '' }, { deadlineMs: CALL_DEADLINE_MS });
      const summary = { migratedEmails: emails, migratedBytes: bytes, failures, remainingEmails: left.remainingEmails, remainingBytes: left.remainingBytes };
      print(ctx.json(), summary, () =>
        [
          `moved ${emails} email(s) (${mib(bytes)}) into the object store`,
          failures.length ? `${failures.length} could not be verified and stay in the database (listed above); run again to retry them` : '',
          `${left.remainingEmails} email(s) (${mib(left.remainingBytes)}) remain in the database`,
        ]
          .filter(Boolean)
          .join('\n'),
      );
      if (failures.length) process.exitCode = 1;
    });
  return cmd;
}
