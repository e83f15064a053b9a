import { PostboteError, type ErrorCode, type ErrorOptions } from '@postbote/errors';

/**
 * Why a poll failed, as the connector log and the API show it. Each kind is a
 * stable code operators can search for.
 */
export type MailboxFailure =
  | 'CONNECT_TIMEOUT'
  | 'FETCH_TIMEOUT'
  | 'AUTH_FAILED'
  | 'TLS_FAILED'
  | 'STARTTLS_UNAVAILABLE'
  | 'CONNECTION_FAILED'
  | 'FOLDER_NOT_FOUND'
  | 'UIDL_UNSUPPORTED'
  | 'PROTOCOL_ERROR'
  /** The config service could not hand out the connector's credentials. */
  | 'CREDENTIALS_UNAVAILABLE'
  /** Storage did not confirm (unreachable, or its database is); nothing unconfirmed was touched. */
  | 'STORE_FAILED';

const GRPC_CODE: Record<MailboxFailure, ErrorCode> = {
  CONNECT_TIMEOUT: 'DEADLINE_EXCEEDED',
  FETCH_TIMEOUT: 'DEADLINE_EXCEEDED',
  // The mail server refused the mailbox's login: a precondition of the call, not the
  // caller's own credentials (UNAUTHENTICATED would read as the API token being refused).
  AUTH_FAILED: 'FAILED_PRECONDITION',
  TLS_FAILED: 'UNAVAILABLE',
  STARTTLS_UNAVAILABLE: 'FAILED_PRECONDITION',
  CONNECTION_FAILED: 'UNAVAILABLE',
  FOLDER_NOT_FOUND: 'FAILED_PRECONDITION',
  UIDL_UNSUPPORTED: 'FAILED_PRECONDITION',
  PROTOCOL_ERROR: 'UNAVAILABLE',
  CREDENTIALS_UNAVAILABLE: 'UNAVAILABLE',
  STORE_FAILED: 'UNAVAILABLE',
};

/** A failed poll. `retryable` false means: do not hammer, wait for a config change. */
export class MailboxError extends PostboteError {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(
    readonly failure: MailboxFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, failure === 'AUTH_FAILED' ? { ...options, reason: 'MAILBOX_AUTH_FAILED' } : options);
    this.code = GRPC_CODE[failure];
    this.retryable = failure !== 'AUTH_FAILED' && failure !== 'STARTTLS_UNAVAILABLE' && failure !== 'UIDL_UNSUPPORTED';
  }
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_SSL|ERR_TLS|EPROTO|wrong version number|unknown protocol|handshake/i;

/** Maps a socket-level error to a failure kind (shared by the IMAP and POP3 clients). */
export function classifySocketError(err: unknown): MailboxFailure {
  const e = err as { code?: string; message?: string };
  const text = `${e.code ?? ''} ${e.message ?? ''}`;
  if (TLS_CODES.test(text)) return 'TLS_FAILED';
  if (/ETIMEDOUT|timed? ?out/i.test(text)) return 'CONNECT_TIMEOUT';
  return 'CONNECTION_FAILED';
}
