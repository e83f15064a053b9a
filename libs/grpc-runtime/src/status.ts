import { Metadata, status, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import {
  AlreadyExistsError,
  AuthenticationError,
  ConcurrencyError,
  InternalError,
  NotFoundError,
  NotImplementedError,
  PermissionDeniedError,
  PostboteError,
  PreconditionError,
  QuotaExceededError,
  RateLimitedError,
  TimeoutError,
  UnavailableError,
  ValidationError,
  type ErrorCode,
  type Violation,
} from '@postbote/errors';
import { Any, BadRequest, ErrorInfo, Status } from '@postbote/proto';

// The one place where Postbote errors become gRPC statuses and back again.

const TO_STATUS: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  ABORTED: status.ABORTED,
  PERMISSION_DENIED: status.PERMISSION_DENIED,
  UNAUTHENTICATED: status.UNAUTHENTICATED,
  UNAVAILABLE: status.UNAVAILABLE,
  RESOURCE_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  INTERNAL: status.INTERNAL,
  CONFIG: status.INTERNAL,
};

/**
 * The standard rich-error trailer. Binary (`-bin`) metadata takes any bytes, so no
 * message text — control characters, non-ASCII, whatever a violation quotes — can make
 * grpc-js throw while sending the status (it did with an ASCII-only key: a control
 * character in a folder name took the whole process down).
 */
const DETAILS_KEY = 'grpc-status-details-bin';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';
const ERROR_INFO_TYPE = 'type.googleapis.com/google.rpc.ErrorInfo';
const DOMAIN = 'postbote';
/** Messages are written by us, but may quote input; a status must always fit the wire. */
const MAX_DETAILS = 2_000;
const MAX_VIOLATIONS = 100;

const bounded = (s: string, max = MAX_DETAILS) => (s.length <= max ? s : `${s.slice(0, max)}…`);

/**
 * Converts an error thrown by a handler to a gRPC status. Postbote errors keep their
 * message (they are written to be shown and never contain secrets); anything else
 * becomes INTERNAL with only a reference, since a foreign error message (a driver's,
 * say) might quote data we must not leak.
 */
export function toGrpcStatus(err: unknown, reference: string): Partial<StatusObject> {
  if (!(err instanceof PostboteError)) {
    return { code: status.INTERNAL, details: `internal error (reference ${reference}; see the service log)`, metadata: new Metadata() };
  }
  const code = TO_STATUS[err.code];
  const message = bounded(err.message);
  const details: Any[] = [];
  if (err instanceof ValidationError) {
    const fieldViolations = err.violations.slice(0, MAX_VIOLATIONS).map((v) => ({ field: bounded(v.field, 200), description: bounded(v.message, 500), reason: bounded(v.rule, 100) }));
    details.push({ typeUrl: BAD_REQUEST_TYPE, value: Buffer.from(BadRequest.encode({ fieldViolations }).finish()) });
  }
  if (err.reason) details.push({ typeUrl: ERROR_INFO_TYPE, value: Buffer.from(ErrorInfo.encode({ reason: err.reason, domain: DOMAIN, metadata: {} }).finish()) });
  const metadata = new Metadata();
  if (details.length) metadata.set(DETAILS_KEY, Buffer.from(Status.encode({ code, message, details }).finish()));
  return { code, details: message, metadata };
}

interface RichDetails {
  readonly violations: Violation[];
  readonly reason: string | undefined;
}

function richDetails(err: ServiceError): RichDetails {
  const out: RichDetails = { violations: [], reason: undefined };
  const raw = err.metadata?.get(DETAILS_KEY)[0];
  if (!Buffer.isBuffer(raw)) return out;
  try {
    for (const any of Status.decode(raw).details) {
      if (any.typeUrl === BAD_REQUEST_TYPE) {
        for (const v of BadRequest.decode(any.value).fieldViolations) out.violations.push({ field: v.field, rule: v.reason, message: v.description });
      } else if (any.typeUrl === ERROR_INFO_TYPE) {
        (out as { reason: string | undefined }).reason = ErrorInfo.decode(any.value).reason || undefined;
      }
    }
  } catch {
    // A trailer we cannot read is not worth failing over: the status code and message remain.
  }
  return out;
}

/** Converts a failed call back to a typed Postbote error (used by every client). */
export function fromGrpcError(err: ServiceError): PostboteError {
  const message = err.details || err.message;
  const { violations, reason } = richDetails(err);
  const options = { cause: err, reason };
  switch (err.code) {
    case status.INVALID_ARGUMENT:
      return new ValidationError(violations.length ? violations : [{ field: 'request', rule: 'invalid', message }]);
    case status.NOT_FOUND:
      return new NotFoundError(message, options);
    case status.ALREADY_EXISTS:
      return new AlreadyExistsError(message);
    case status.FAILED_PRECONDITION:
      return new PreconditionError(message, options);
    case status.ABORTED:
      return new ConcurrencyError(message, options);
    case status.PERMISSION_DENIED:
      return new PermissionDeniedError(message, options);
    case status.UNAUTHENTICATED:
      return new AuthenticationError(message, options);
    case status.UNAVAILABLE:
      return new UnavailableError(message, options);
    case status.RESOURCE_EXHAUSTED:
      // The quota's name leads the message ("quotas.max_connectors: …"), as QuotaExceededError writes it.
      if (reason === 'QUOTA_EXCEEDED') return new QuotaExceededError(message.slice(message.indexOf(': ') + 2), message.slice(0, Math.max(0, message.indexOf(': '))));
      return new RateLimitedError(message, options);
    case status.DEADLINE_EXCEEDED:
      return new TimeoutError(message, options);
    case status.UNIMPLEMENTED:
      return new NotImplementedError(message, options);
    default:
      return new InternalError(message, options);
  }
}
