import { MailboxError, type ServerAccess, type TestStepResult } from '@postbote/mailbox';
import { quit, stat } from './pop3-commands';
import { openPop3 } from './pop3-session';

/** TestConnection for POP3: TCP, TLS/STLS, greeting, login, STAT, each with the server's answer. */
export async function testPop3(access: ServerAccess): Promise<TestStepResult[]> {
  const steps: TestStepResult[] = [];
  try {
    const { wire } = await openPop3(access, access.connectTimeoutMs, steps);
    const t = Date.now();
    try {
      const s = await stat(wire, access.connectTimeoutMs);
      steps.push({ name: 'STAT', ok: true, detail: s, durationMs: Date.now() - t });
      await quit(wire, access.connectTimeoutMs);
    } catch (err) {
      steps.push({ name: 'STAT', ok: false, detail: (err as Error).message, durationMs: Date.now() - t });
    } finally {
      wire.close();
    }
  } catch (err) {
    if (!(err instanceof MailboxError)) throw err;
  }
  return steps;
}
