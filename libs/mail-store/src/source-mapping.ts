import type { SourceCoordinates } from '@postbote/proto';
import type { EmailSource } from './dedupe-keys';

/** Proto source coordinates → domain; undefined when neither IMAP nor POP3 is given. */
export function sourceFromProto(c: SourceCoordinates): EmailSource | undefined {
  const s = c.source;
  if (s?.$case === 'imap') return { kind: 'IMAP', folder: s.value.folder, uidValidity: s.value.uidValidity, uid: s.value.uid };
  if (s?.$case === 'pop3') return { kind: 'POP3', uidl: s.value.uidl };
  return undefined;
}
