import type { StorageServiceClient, StoredEmail } from '@postbote/proto';
import { storeOne } from '@postbote/service-clients';

export interface TestEmail {
  /** Storage must know it (its connectors topic, or `connectors.upserted` in a test). */
  readonly connectorId: string;
  /** POP3 coordinates: the simplest source there is. */
  readonly uidl: string;
  readonly bytes: Buffer;
}

/** Stores one email through StoreEmails as a fetcher would; a refusal fails the test. */
export async function storeTestEmail(client: StorageServiceClient, e: TestEmail): Promise<StoredEmail> {
  const ack = await storeOne(
    client,
    { connectorId: e.connectorId },
    { source: { source: { $case: 'pop3', value: { uidl: e.uidl } } }, occurrence: '', receivedAt: new Date(), content: e.bytes },
  );
  if ('refused' in ack) throw new Error(`storage refused the email: ${ack.refused.code}: ${ack.refused.message}`);
  return ack.stored;
}
