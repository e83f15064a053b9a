import { createHash } from 'node:crypto';
import type { MessageSource } from '@postbote/connector-model';


const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * First line of defence: the message's coordinates on its server (plus the occurrence
 * a reprocessing fetcher assigns). A retried or concurrent store of the same message
 * hits this key. NUL separators keep fields from running into each other.
 */
export function sourceKey(source: MessageSource, occurrence: string): string {
  const coords = source.kind === 'IMAP' ? ['IMAP', source.folder, source.uidValidity, source.uid] : ['POP3', source.uidl];
  return sha(['source', ...coords, occurrence].join('\0'));
}

/**
 * Second line: the same content under new coordinates (a UIDVALIDITY reset, a POP3
 * server presenting a message under a new UIDL). Message-ID alone is not enough (it
 * can be missing or reused by careless senders), so the bytes' hash is part of it.
 */
export function contentKey(messageId: string, sha256: string): string {
  return sha(['content', messageId, sha256].join('\0'));
}
