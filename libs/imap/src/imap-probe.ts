import type { ImapFlow } from 'imapflow';
import { MailboxError, type ServerAccess, type TestStepResult } from '@postbote/mailbox';
import { connectImap, type ConnectMarks } from './imap-connect';
import { personalNamespace, resolveFolder, toSlashPath } from './folder-resolver';

/**
 * TestConnection for IMAP: connect (TCP, TLS or STARTTLS, greeting, login) and open the
 * folder, reporting each step with what the server said. Never throws for a failing
 * server: the failure is the last step.
 */
export async function testImap(access: ServerAccess, folder: string | null): Promise<TestStepResult[]> {
  const steps: TestStepResult[] = [];
  const started = Date.now();
  const marks: ConnectMarks = {};
  let client: ImapFlow | undefined;
  try {
    client = await connectImap(access, access.connectTimeoutMs, undefined, marks);
    const loggedIn = Date.now();
    const greeting = (client as unknown as { greeting?: string }).greeting ?? '';
    // Each step's own time, from the stages imapflow passed (a stage not seen takes no time of its own).
    const tcp = marks.tcp ?? marks.ready ?? marks.greeting ?? loggedIn;
    const ready = marks.ready ?? tcp;
    const greeted = marks.greeting ?? ready;
    const upgraded = marks.starttls ?? greeted;
    const login = marks.login ?? loggedIn;
    steps.push({ name: 'TCP', ok: true, detail: `connected to ${access.host}:${access.port}`, durationMs: tcp - started });
    if (access.security === 'SSL') steps.push({ name: 'TLS', ok: true, detail: 'certificate verified', durationMs: ready - tcp });
    steps.push({ name: 'GREETING', ok: true, detail: greeting || 'server greeted', durationMs: greeted - ready });
    if (access.security === 'TLS') steps.push({ name: 'STARTTLS', ok: true, detail: 'certificate verified', durationMs: upgraded - greeted });
    steps.push({ name: 'LOGIN', ok: true, detail: `logged in as ${access.username}`, durationMs: Math.max(0, login - upgraded) });
    if (folder) {
      const t = Date.now();
      try {
        const list = await client.list();
        const f = resolveFolder(folder, list, personalNamespace(client).prefix);
        const box = await client.mailboxOpen(f.path, { readOnly: true });
        steps.push({ name: 'FOLDER', ok: true, detail: `${toSlashPath(f)}: ${box.exists} message(s), UIDVALIDITY ${box.uidValidity}`, durationMs: Date.now() - t });
      } catch (err) {
        steps.push({ name: 'FOLDER', ok: false, detail: (err as Error).message, durationMs: Date.now() - t });
      }
    }
  } catch (err) {
    const e = err as MailboxError;
    const step = e instanceof MailboxError ? stepFor(e.failure, access.security) : 'TCP';
    // The failing step's own time: from the last stage that passed.
    const passed = Math.max(started, ...[marks.tcp, marks.ready, marks.greeting, marks.starttls].filter((x): x is number => x !== undefined));
    steps.push({ name: step, ok: false, detail: e.message, durationMs: Date.now() - passed });
  } finally {
    if (client?.usable) await client.logout().catch(() => client?.close());
    else client?.close();
  }
  return steps;
}

function stepFor(failure: MailboxError['failure'], security: ServerAccess['security']): string {
  switch (failure) {
    case 'AUTH_FAILED':
      return 'LOGIN';
    case 'TLS_FAILED':
      return security === 'TLS' ? 'STARTTLS' : 'TLS';
    case 'STARTTLS_UNAVAILABLE':
      return 'STARTTLS';
    default:
      return 'TCP';
  }
}

/** The mailbox's folders in "/" notation. */
export async function listImapFolders(access: ServerAccess): Promise<string[]> {
  const client = await connectImap(access, access.connectTimeoutMs);
  try {
    return (await client.list()).map((f) => toSlashPath({ path: f.path, delimiter: f.delimiter })).sort();
  } finally {
    if (client.usable) await client.logout().catch(() => client.close());
    else client.close();
  }
}
