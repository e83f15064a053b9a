import { Secret } from '@postbote/crypto';
import { call } from '@postbote/grpc-runtime';
import { pollImap, type ImapMemory } from '@postbote/imap';
import { pollPop3, type Pop3Memory } from '@postbote/pop3';
import { MailboxError, type RunLog, type ServerAccess, type StoreMessage } from '@postbote/mailbox';
import { INTERNAL_TOKEN_HEADER, storeEmail } from '@postbote/service-clients';
import { StoreEmailHeader, type CredentialServiceClient, type StorageServiceClient } from '@postbote/proto';
import type { FetchConnector, MailboxRun, RunSummary } from './connector-actor';


export interface MailboxRunDeps {
  readonly credentials: CredentialServiceClient;
  readonly storage: StorageServiceClient;
  readonly internalToken: Secret | undefined;
  readonly logFor: (connectorId: string) => RunLog;
  readonly maxMessageBytes: number;
  readonly now: () => Date;
}

/**
 * The run an actor performs: fetch credentials from the config service (never from the
 * bus), then poll the mailbox with storage as the durable sink.
 */
export function mailboxRun(deps: MailboxRunDeps): MailboxRun {
  const memories = new Map<string, ImapMemory>();
  const pop3Memories = new Map<string, Pop3Memory>();
  return async (connector: FetchConnector, signal: AbortSignal): Promise<RunSummary> => {
    const s = connector.settings;
    const creds = await call(
      deps.credentials.getCredentials,
      deps.credentials,
      { connectorId: connector.id },
      { deadlineMs: 10_000, signal, metadata: deps.internalToken ? { [INTERNAL_TOKEN_HEADER]: deps.internalToken.reveal() } : {} },
    ).catch((err: unknown) => {
      throw new MailboxError('STORE_FAILED', `credentials unavailable from the config service: ${(err as Error).message}`, { cause: err });
    });
    const access: ServerAccess = {
      host: s.host,
      port: s.port,
      security: s.security,
      trustedCaPem: s.trustedCaPem,
      username: creds.username,
      password: new Secret(creds.password),
      connectTimeoutMs: s.connectTimeoutMs,
    };
    const store: StoreMessage = async (msg) => {
      const header = StoreEmailHeader.fromPartial({
        connectorId: connector.id,
        connectorName: s.name,
        workflowId: s.workflowId,
        source: msg.source.kind === 'IMAP' ? { source: { $case: 'imap', value: { folder: msg.source.folder, uidValidity: msg.source.uidValidity, uid: msg.source.uid } } } : { source: { $case: 'pop3', value: { uidl: msg.source.uidl } } },
        reprocess: s.reprocess,
        occurrence: msg.occurrence,
        receivedAt: deps.now(),
      });
      try {
        const res = await storeEmail(deps.storage, header, msg.content, Math.max(60_000, s.fetchTimeoutMs));
        return { duplicate: res.duplicate };
      } catch (err) {
        throw new MailboxError('STORE_FAILED', `storage did not confirm the message; it stays untouched on the server: ${(err as Error).message}`, { cause: err });
      }
    };
    if (s.protocol === 'IMAP' && s.imap) {
      let memory = memories.get(connector.id);
      if (!memory) memories.set(connector.id, (memory = { oversize: new Set() }));
      return pollImap(
        access,
        { ...s.imap, batchSize: s.batchSize, reprocess: s.reprocess, fetchTimeoutMs: s.fetchTimeoutMs, maxMessageBytes: deps.maxMessageBytes },
        memory,
        store,
        deps.logFor(connector.id),
        signal,
      );
    }
    let memory = pop3Memories.get(connector.id);
    if (!memory) pop3Memories.set(connector.id, (memory = { oversize: new Set() }));
    const known = async (uidls: string[]) => {
      const res = await call(deps.storage.findStoredSources, deps.storage, { connectorId: connector.id, pop3Uidls: uidls }, { deadlineMs: 30_000, signal }).catch((err: unknown) => {
        throw new MailboxError('STORE_FAILED', `storage unavailable: ${(err as Error).message}`, { cause: err });
      });
      return new Set(res.knownPop3Uidls);
    };
    return pollPop3(access, { batchSize: s.batchSize, fetchTimeoutMs: s.fetchTimeoutMs, maxMessageBytes: deps.maxMessageBytes }, memory, known, store, deps.logFor(connector.id), signal);
  };
}
