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
  TimeoutError,
  UnavailableError,
  ValidationError,
  type ErrorCode,
  type Violation,
} from '@postbote/errors';

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
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  UNIMPLEMENTED: status.UNIMPLEMENTED,
  INTERNAL: status.INTERNAL,
  CONFIG: status.INTERNAL,
};

const VIOLATIONS_KEY = 'x-postbote-violations';

/**
 * Converts an error thrown by a handler to a gRPC status. Postbote errors keep their
 * message (they are written to be shown and never contain secrets); anything else
 * becomes INTERNAL with only a reference, since a foreign error message (a driver's,
 * say) might quote data we must not leak.
 */
export function toGrpcStatus(err: unknown, reference: string): Partial<StatusObject> {
  const metadata = new Metadata();
  if (err instanceof PostboteError) {
    if (err instanceof ValidationError) metadata.set(VIOLATIONS_KEY, JSON.stringify(err.violations));
    return { code: TO_STATUS[err.code], details: err.message, metadata };
  }
  return { code: status.INTERNAL, details: `internal error (reference ${reference}; see the service log)`, metadata };
}

/** Converts a failed call back to a typed Postbote error (used by every client). */
export function fromGrpcError(err: ServiceError): PostboteError {
  const message = err.details || err.message;
  switch (err.code) {
    case status.INVALID_ARGUMENT: {
      const raw = err.metadata?.get(VIOLATIONS_KEY)[0];
      const violations = raw ? (JSON.parse(String(raw)) as Violation[]) : [{ field: 'request', rule: 'invalid', message }];
      return new ValidationError(violations);
    }
    case status.NOT_FOUND:
      return new NotFoundError(message);
    case status.ALREADY_EXISTS:
      return new AlreadyExistsError(message);
    case status.FAILED_PRECONDITION:
      return new PreconditionError(message);
    case status.ABORTED:
      return new ConcurrencyError(message);
    case status.PERMISSION_DENIED:
      return new PermissionDeniedError(message);
    case status.UNAUTHENTICATED:
      return new AuthenticationError(message);
    case status.UNAVAILABLE:
      return new UnavailableError(message, { cause: err });
    case status.DEADLINE_EXCEEDED:
      return new TimeoutError(message, { cause: err });
    case status.UNIMPLEMENTED:
      return new NotImplementedError(message);
    default:
      return new InternalError(message, { cause: err });
  }
}
