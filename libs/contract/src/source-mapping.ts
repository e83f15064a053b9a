import type { MessageSource } from '@postbote/connector-model';
import type { SourceCoordinates } from '@postbote/proto';

/** A message's coordinates on the API (begin of StoreEmails, stored emails, events). */
export function sourceToProto(source: MessageSource): SourceCoordinates {
  return source.kind === 'IMAP'
    ? { source: { $case: 'imap', value: { folder: source.folder, uidValidity: source.uidValidity, uid: source.uid } } }
    : { source: { $case: 'pop3', value: { uidl: source.uidl } } };
}

/** The API's coordinates as the domain's; undefined when neither IMAP nor POP3 is given. */
export function sourceFromProto(c: SourceCoordinates | undefined): MessageSource | undefined {
  const s = c?.source;
  if (s?.$case === 'imap') return { kind: 'IMAP', folder: s.value.folder, uidValidity: s.value.uidValidity, uid: s.value.uid };
  if (s?.$case === 'pop3') return { kind: 'POP3', uidl: s.value.uidl };
  return undefined;
}
