import type { ImapFlow } from 'imapflow';
import { MailboxError } from '@postbote/mailbox';

export interface ServerFolder {
  /** The server's own path, e.g. "INBOX.Incidents". */
  readonly path: string;
  readonly delimiter: string;
}

/** A server path in Postbote's "/" notation: "INBOX.Incidents" with "." → "INBOX/Incidents". */
export function toSlashPath(folder: ServerFolder): string {
  return folder.delimiter && folder.delimiter !== '/' ? folder.path.split(folder.delimiter).join('/') : folder.path;
}

/**
 * The server's personal namespace as imapflow read it at login (NAMESPACE; a runtime property
 * its types do not declare): the prefix folder paths may carry, and its delimiter.
 */
export function personalNamespace(client: ImapFlow): { prefix: string; delimiter: string | undefined } {
  const personal = (client as unknown as { namespaces?: { personal?: Array<{ prefix?: string; delimiter?: string }> } }).namespaces?.personal?.[0];
  return { prefix: personal?.prefix ?? '', delimiter: personal?.delimiter };
}

function normalise(path: string): string {
  const parts = path.split('/');
  if (parts[0]?.toUpperCase() === 'INBOX') parts[0] = 'INBOX';
  return parts.join('/');
}

/**
 * Finds the server folder a "/"-notation path names, whatever the server's delimiter and
 * personal namespace: "Inbox/Incidents" matches "INBOX/Incidents" (Dovecot, "/"),
 * "INBOX.Incidents" (Courier-style, "."), and "Incidents" under a personal prefix "INBOX."
 * also answers to "Incidents". INBOX is case-insensitive (RFC 3501 §5.1); other names
 * are compared exactly, as servers do.
 */
export function resolveFolder(userPath: string, folders: readonly ServerFolder[], personalPrefix: string): ServerFolder {
  const wanted = normalise(userPath);
  const prefixSlash = personalPrefix ? normalise(personalPrefix.replace(/[./]$/, '')) : '';
  for (const f of folders) {
    const slash = normalise(toSlashPath(f));
    if (slash === wanted) return f;
    if (prefixSlash && slash === `${prefixSlash}/${wanted}`) return f;
  }
  const existing = folders.map((f) => toSlashPath(f)).sort();
  throw new MailboxError('FOLDER_NOT_FOUND', `folder "${userPath}" does not exist; the mailbox has: ${existing.join(', ') || '(no folders)'}`);
}
