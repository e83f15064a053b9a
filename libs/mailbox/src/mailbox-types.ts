import type { TlsResumption } from './tls-resumption';
import type { Secret } from '@postbote/crypto';
import type { LogLevelName, MessageSource, Security } from '@postbote/connector-model';

export type { MessageSource } from '@postbote/connector-model';

/** One message on its way to durable storage. */
export interface IncomingMessage {
  readonly source: MessageSource;
  /** See EmailBegin.occurrence: distinguishes a deliberate re-processing. */
  readonly occurrence: string;
  /**
   * The whole message, or its bytes as they arrive. An iterable that ends has delivered
   * the complete message (the protocol code only ends it at the transfer's own end
   * marker); one that throws means the transfer broke and nothing of it is stored.
   */
  readonly content: Uint8Array | AsyncIterable<Uint8Array>;
}

/** What storage said of one message, after its commit. */
export type StoreOutcome =
  | { readonly kind: 'stored' }
  /** Already stored for this connector (a retry, or the same content again): post-process it. */
  | { readonly kind: 'duplicate' }
  /** Not stored, for a reason of the message's own (e.g. too large); the run goes on. */
  | { readonly kind: 'refused'; readonly code: string; readonly message: string };

/**
 * Where a run puts messages. `put` streams one message to storage and resolves once its
 * bytes are handed over, so the next message can be fetched while storage commits;
 * `outcome` settles after storage's durable commit. A run applies its server-side
 * action (mark read, delete, move) only to messages whose outcome is stored or
 * duplicate. If `put` rejects, nothing of that message was stored.
 */
export interface MessageSink {
  put(message: IncomingMessage): Promise<{ readonly outcome: Promise<StoreOutcome> }>;
}

/**
 * What a connector remembers between runs, owned by its actor (and gone with it). In
 * memory only: losing it costs at most a repeated log line.
 */
export interface RunMemory {
  /** Messages already reported as over the size cap, so the log says it once. */
  readonly oversize: Set<string>;
  /** IMAP: the folder's UIDVALIDITY at the last run. */
  uidValidity?: number;
  /** IMAP: the server's paths for the folder and move target, as a run resolved them for `key`. */
  imapFolders?: ResolvedImapFolders;
  /** A connection kept open between runs (IMAP IDLE); the actor closes it when it stops or is reconfigured. */
  session?: KeptSession;
  /** Starts a run now: what a kept session calls when the server announces mail (set by the actor). */
  wake?: () => void;
  /** The log already said that this server cannot push (said once per actor). */
  pushUnavailableSaid?: boolean;
  /** POP3: UIDLs of `mailbox` that storage confirmed stored, asked first at `since` (see storedUidlsMemo). */
  pop3Stored?: { readonly mailbox: string; readonly since: number; readonly uidls: Set<string> };
}

/** The server's own paths for a connector's folder settings (what LIST said, matched by the folder resolver). */
export interface ResolvedImapFolders {
  /** The server, login, folder and move target they were resolved for. */
  readonly key: string;
  readonly folder: string;
  /** The server's hierarchy delimiter for `folder`. */
  readonly delimiter: string;
  readonly target: string | null;
}

/** A mail-server connection that outlives a run. */
export interface KeptSession {
  /** What the connection was opened for (server, login, folder); a run for anything else opens its own. */
  readonly key: string;
  /**
   * How it was opened, credentials included: a run on the kept connection needs no new
   * look-up (the client library holds the same password for the connection's life anyway).
   * A changed connector closes the session, so these are never stale.
   */
  readonly access: ServerAccess;
  readonly usable: boolean;
  close(): void;
}

/**
 * Forgets oversize reports for messages no longer on the server, so a long-lived actor's
 * memory stays as large as the mailbox's oversized mail, not as all it ever saw.
 */
export function keepOversize(memory: RunMemory, present: ReadonlySet<string>): void {
  for (const key of memory.oversize) if (!present.has(key)) memory.oversize.delete(key);
}

export type RunLogLevel = LogLevelName;

/** Writes to the connector's log ("Protokoll"). */
export type RunLog = (level: RunLogLevel, code: string, message: string) => void;

/**
 * What a login sends: the password, or an OAuth2 access token (SASL OAUTHBEARER or
 * XOAUTH2, whichever the server offers; the config service obtains the token).
 */
export type Login = { readonly kind: 'PASSWORD'; readonly password: Secret } | { readonly kind: 'OAUTH2'; readonly accessToken: Secret };

/** How to reach a mailbox; shared by IMAP and POP3. */
export interface ServerAccess {
  readonly host: string;
  readonly port: number;
  readonly security: Security;
  readonly trustedCaPem: string | null;
  readonly username: string;
  readonly login: Login;
  readonly connectTimeoutMs: number;
  /**
   * The local IP address outgoing connections are made from (FETCHER_SOURCE_ADDRESS), so a
   * customer's mailbox firewall can allow exactly it; unset: the system chooses.
   */
  readonly sourceAddress?: string | null;
  /** Reach the server through this proxy (the connector's proxy_url, its password apart); unset: directly. */
  readonly proxy?: ProxyAccess | null;
  /** The connector's TLS session, offered again and renewed (the fetcher's polls; see TlsResumption). */
  readonly tlsResumption?: TlsResumption;
}

export interface ProxyAccess {
  /** `socks5://[user@]host:port` or `http://[user@]host:port` (HTTP CONNECT). */
  readonly url: string;
  readonly password: Secret | null;
}

export interface RunCounts {
  /** Messages found new this run (before the batch limit). */
  candidates: number;
  stored: number;
  duplicates: number;
  /** Refused by storage for a reason of their own; left untouched on the server. */
  refused: number;
  skippedOversize: number;
  postProcessed: number;
}

export function emptyCounts(): RunCounts {
  return { candidates: 0, stored: 0, duplicates: 0, refused: 0, skippedOversize: 0, postProcessed: 0 };
}

/**
 * Counts an outcome and logs a refusal; true when the message may be post-processed.
 * `what` names the message for the log ("UID 7", "message 3f2a…").
 */
export function tally(counts: RunCounts, outcome: StoreOutcome, what: string, log: RunLog): boolean {
  switch (outcome.kind) {
    case 'stored':
      counts.stored++;
      return true;
    case 'duplicate':
      counts.duplicates++;
      return true;
    case 'refused':
      counts.refused++;
      log('ERROR', 'STORE_REFUSED', `${what} was not stored (${outcome.code}: ${outcome.message}); it stays untouched on the server and is tried again next run`);
      return false;
  }
}

/** One step of TestConnection, with what the server said. */
export interface TestStepResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly durationMs: number;
}

/**
 * Security NONE is the user's choice, but a server that offers STARTTLS makes it a needless
 * one: say so at every run (WARN), with what to do.
 */
export function adviseStartTls(log: RunLog, command: 'STARTTLS' | 'STLS'): void {
  log('WARN', 'STARTTLS_AVAILABLE', `the server offers ${command}, but this connector uses security NONE: the password and every email travel in clear; set security to TLS`);
}
