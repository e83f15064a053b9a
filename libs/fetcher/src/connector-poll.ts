import { imapPart } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import { PostboteError } from '@postbote/errors';
import { call } from '@postbote/grpc-runtime';
import { pollImap } from '@postbote/imap';
import { pollPop3, storedUidlsMemo, type KnownUidls } from '@postbote/pop3';
import { MailboxError, type Login, type MessageSink, type RunLog, type RunMemory, type ServerAccess, type StoreOutcome } from '@postbote/mailbox';
import { StoreEmailsStream, type OpenStoreEmails, type StoreAck } from '@postbote/service-clients';
import type { CredentialServiceClient, StorageServiceClient } from '@postbote/proto';
import type { FetchConnector, ConnectorPoll, RunSummary } from './connector-actor';
import { CredentialCache, TlsSessions } from './credential-cache';
import { sourceToProto } from '@postbote/contract';

export interface ConnectorPollDeps {
  readonly credentials: CredentialServiceClient;
  readonly storage: StorageServiceClient;
  /** StoreEmails in this process (the all-in-one); by default over gRPC on `storage`. */
  readonly storeEmails?: OpenStoreEmails;
  readonly logFor: (connectorId: string) => RunLog;
  readonly maxMessageBytes: number;
  readonly sourceAddress?: string | null;
  readonly now: () => Date;
}

/** "UNAVAILABLE (DATABASE_UNAVAILABLE): …": which dependency failed, as the caller learned it. */
const cause = (err: unknown) => (err instanceof PostboteError ? `${err.code}${err.reason ? ` (${err.reason})` : ''}: ${err.message}` : String((err as Error)?.message ?? err));

/**
 * The run an actor performs: fetch credentials from the config service (never from the
 * bus) — or take those of the connection a push connector kept — then poll the mailbox with
 * one StoreEmails stream as the durable sink.
 */
export function connectorPoll(deps: ConnectorPollDeps): ConnectorPoll {
  const cache = new CredentialCache(() => deps.now().getTime());
  const sessions = new TlsSessions(() => deps.now().getTime());
  return async (connector: FetchConnector, signal: AbortSignal, memory: RunMemory): Promise<RunSummary> => {
    // A kept IMAP connection (push) was opened with this revision's credentials: no look-up.
    // A polled connector uses the ones its last run had, for this revision (CredentialCache).
    const kept = memory.session?.usable ? memory.session.access : cache.get(connector.id, connector.revision);
    const handedOut = kept ?? (await fetchAccess(deps, connector, signal));
    cache.put(connector.id, connector.revision, handedOut);
    // A new connection offers the TLS session of the connector's previous one (decision 0028).
    const resumable = (a: ServerAccess): ServerAccess => ({ ...a, tlsResumption: sessions.for(connector.id, connector.revision) });
    const access = resumable(handedOut);
    try {
      return await pollWith(deps, connector, access, signal, memory);
    } catch (err) {
      // The server refused the login: the password may have changed there; the next run asks again.
      if (err instanceof MailboxError && err.failure === 'AUTH_FAILED') cache.drop(connector.id);
      // An access token can stop working before its stated expiry (a revoked session, a
      // clock apart): the server's refusal gets one fresh token and one more login. Nothing
      // was fetched before the login, so the retry repeats no work.
      if (!(err instanceof MailboxError && err.failure === 'AUTH_FAILED' && access.login.kind === 'OAUTH2' && !kept)) throw err;
      deps.logFor(connector.id)('INFO', 'OAUTH2_TOKEN_REFUSED', 'the mail server refused the access token; logging in once more with a fresh one');
      return pollWith(deps, connector, resumable(await fetchAccess(deps, connector, signal, access.login)), signal, memory);
    }
  };
}

async function pollWith(deps: ConnectorPollDeps, connector: FetchConnector, access: ServerAccess, signal: AbortSignal, memory: RunMemory): Promise<RunSummary> {
  const s = connector.settings;
  const sink = new StorageSink(deps, connector, Math.max(60_000, s.fetchTimeoutMs + 30_000));
  const log = deps.logFor(connector.id);
  try {
    const result =
      s.protocol === 'IMAP'
        ? await pollImap(access, { ...imapPart(s), batchSize: s.batchSize, reprocess: s.reprocess, fetchTimeoutMs: s.fetchTimeoutMs, maxMessageBytes: deps.maxMessageBytes }, memory, sink, log, signal)
        : await pollPop3(access, { batchSize: s.batchSize, fetchTimeoutMs: s.fetchTimeoutMs, maxMessageBytes: deps.maxMessageBytes }, memory, storedUidls(deps, connector, access, memory, signal), sink, log, signal);
    await sink.close();
    return result;
  } catch (err) {
    sink.cancel();
    throw err;
  }
}

/**
 * Credentials from the config service (never from the bus) and the connector's server
 * settings. OAUTH2: the config service hands out an access token (`rejected`: the one the
 * server refused, so it refreshes); a grant the token endpoint refuses parks the connector
 * (AUTH_FAILED) until a person stores a new refresh token.
 */
async function fetchAccess(deps: ConnectorPollDeps, connector: FetchConnector, signal: AbortSignal, rejected?: Login): Promise<ServerAccess> {
  const s = connector.settings;
  const request = { connectorId: connector.id, rejectedAccessToken: rejected?.kind === 'OAUTH2' ? rejected.accessToken.reveal() : '' };
  const creds = await call(deps.credentials.getCredentials, deps.credentials, request, { deadlineMs: 30_000, signal }).catch((err: unknown) => {
    if (err instanceof PostboteError && err.code === 'FAILED_PRECONDITION' && err.reason?.startsWith('OAUTH_')) {
      throw new MailboxError('AUTH_FAILED', `OAuth2 (${err.reason}): ${err.message}. Sign in again and store the new refresh token: postbote connector update ${JSON.stringify(s.name)} --refresh-token-stdin`, { cause: err });
    }
    throw new MailboxError('CREDENTIALS_UNAVAILABLE', `the config service did not hand out the credentials: ${cause(err)}`, { cause: err });
  });
  const login: Login = creds.accessToken ? { kind: 'OAUTH2', accessToken: new Secret(creds.accessToken) } : { kind: 'PASSWORD', password: new Secret(creds.password) };
  return {
    host: s.host,
    port: s.port,
    security: s.security,
    trustedCaPem: s.trustedCaPem,
    username: creds.username,
    login,
    connectTimeoutMs: s.connectTimeoutMs,
    sourceAddress: deps.sourceAddress ?? null,
    proxy: s.proxyUrl ? { url: s.proxyUrl, password: creds.proxyPassword ? new Secret(creds.proxyPassword) : null } : null,
  };
}

/** Which listed UIDLs storage has, asking it only about those it has not confirmed for this mailbox before. */
function storedUidls(deps: ConnectorPollDeps, connector: FetchConnector, access: ServerAccess, memory: RunMemory, signal: AbortSignal): KnownUidls {
  const mailbox = JSON.stringify([access.host, access.port, access.username]);
  return storedUidlsMemo(memory, mailbox, () => deps.now().getTime(), (uidls) => knownUidls(deps, connector.id, uidls, signal));
}

async function knownUidls(deps: ConnectorPollDeps, connectorId: string, uidls: string[], signal: AbortSignal): Promise<Set<string>> {
  const res = await call(deps.storage.findStoredSources, deps.storage, { connectorId, pop3Uidls: uidls }, { deadlineMs: 30_000, signal }).catch((err: unknown) => {
    throw new MailboxError('STORE_FAILED', `storage could not say which messages it has: ${cause(err)}`, { cause: err });
  });
  return new Set(res.knownPop3Uidls);
}

/** A run's messages go to storage on one StoreEmails stream, opened with the first message. */
export class StorageSink implements MessageSink {
  #stream: StoreEmailsStream | undefined;

  constructor(
    private readonly deps: Pick<ConnectorPollDeps, 'storage' | 'storeEmails' | 'now'>,
    private readonly connector: FetchConnector,
    private readonly deadlineMs: number,
  ) {}

  async put(message: Parameters<MessageSink['put']>[0]): Promise<{ outcome: Promise<StoreOutcome> }> {
    this.#stream ??= StoreEmailsStream.open(
      this.deps.storeEmails ?? this.deps.storage,
      { connectorId: this.connector.id },
      { deadlineMs: this.deadlineMs },
    );
    try {
      const { ack } = await this.#stream.send({ source: sourceToProto(message.source), occurrence: message.occurrence, receivedAt: this.deps.now(), content: message.content });
      return { outcome: ack.then(outcomeOf, (err: unknown) => Promise.reject(storeFailed(err))) };
    } catch (err) {
      // A mail-server failure (the content broke off) passes as it is; a storage failure is named as one.
      if (err instanceof PostboteError && !(err instanceof MailboxError)) throw storeFailed(err);
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#stream?.finish();
  }

  cancel(): void {
    this.#stream?.cancel();
  }
}

function outcomeOf(a: StoreAck): StoreOutcome {
  if ('refused' in a) return { kind: 'refused', code: a.refused.code, message: a.refused.message };
  return { kind: a.stored.duplicate ? 'duplicate' : 'stored' };
}

const storeFailed = (err: unknown) =>
  new MailboxError('STORE_FAILED', `storage did not confirm the message; it stays untouched on the server: ${cause(err)}`, { cause: err });
