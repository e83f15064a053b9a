import type { MessageSource } from '@postbote/mailbox';
import type { SourceCoordinates } from '@postbote/proto';

export function sourceToProto(source: MessageSource): SourceCoordinates {
  return source.kind === 'IMAP'
    ? { source: { $case: 'imap', value: { folder: source.folder, uidValidity: source.uidValidity, uid: source.uid } } }
    : { source: { $case: 'pop3', value: { uidl: source.uidl } } };
}
