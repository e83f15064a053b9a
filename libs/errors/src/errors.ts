// Typed errors shared by every service. Each has a stable `code` (part of the API:
// clients and logs key on it) and says whether retrying the same call can help.
// Mapping to gRPC status lives in @postbote/grpc-runtime, in one place.

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'UNAVAILABLE'
  | 'RESOURCE_EXHAUSTED'
  | 'DEADLINE_EXCEEDED'
  | 'UNIMPLEMENTED'
  | 'INTERNAL'
  | 'CONFIG';

export interface ErrorOptions {
  readonly cause?: unknown;
  /**
   * The real cause as a stable machine-readable name, finer than `code`: e.g.
   * DATABASE_UNAVAILABLE or KAFKA_UNAVAILABLE under UNAVAILABLE. Travels to clients
   * (google.rpc.ErrorInfo) so a log can say which dependency failed.
   */
  readonly reason?: string;
}

export abstract class PostboteError extends Error {
  abstract readonly code: ErrorCode;
  abstract readonly retryable: boolean;
  readonly reason: string | undefined;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.reason = options?.reason;
  }
}

/** One broken rule on one field. `field` is the API name, e.g. `spec.port`. */
export interface Violation {
  readonly field: string;
  readonly rule: string;
  readonly message: string;
}

/** Bad input. The message names every offending field; values are never echoed. */
export class ValidationError extends PostboteError {
  readonly code = 'INVALID_ARGUMENT' as const;
  readonly retryable = false;
  readonly violations: readonly Violation[];

  constructor(violations: readonly Violation[]) {
    super(violations.map((v) => `${v.field}: ${v.message}`).join('; '));
    this.violations = Object.freeze([...violations]);
  }

  static single(field: string, rule: string, message: string): ValidationError {
    return new ValidationError([{ field, rule, message }]);
  }
}

export class NotFoundError extends PostboteError {
  readonly code = 'NOT_FOUND' as const;
  readonly retryable = false;
}

export class AlreadyExistsError extends PostboteError {
  readonly code = 'ALREADY_EXISTS' as const;
  readonly retryable = false;
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The system is not in a state that allows the call (e.g. key not available). */
export class PreconditionError extends PostboteError {
  readonly code = 'FAILED_PRECONDITION' as const;
  readonly retryable = false;
}

/** A concurrent change won (optimistic concurrency); re-read and retry. */
export class ConcurrencyError extends PostboteError {
  readonly code = 'ABORTED' as const;
  readonly retryable = true;
}

export class PermissionDeniedError extends PostboteError {
  readonly code = 'PERMISSION_DENIED' as const;
  readonly retryable = false;
}

/**
 * Credentials were not accepted: a mail server's login refused (retrying quickly risks an
 * account lockout), or a call to our API without a valid token or service identity.
 */
export class AuthenticationError extends PostboteError {
  readonly code = 'UNAUTHENTICATED' as const;
  readonly retryable = false;
}

/** A dependency (DB, bus, mail server, another service) is unreachable right now. */
export class UnavailableError extends PostboteError {
  readonly code = 'UNAVAILABLE' as const;
  readonly retryable = true;
}

/** Too many attempts in a short time (a rate limit): wait and retry. */
export class RateLimitedError extends PostboteError {
  readonly code = 'RESOURCE_EXHAUSTED' as const;
  readonly retryable = true;
}

/**
 * A workspace's quota stands in the way (docs/decisions/0023): retrying does not help until
 * something is freed or the installation admin raises the limit. `quota` is its API name.
 */
export class QuotaExceededError extends PostboteError {
  readonly code = 'RESOURCE_EXHAUSTED' as const;
  readonly retryable = false;
  constructor(
    message: string,
    readonly quota: string,
  ) {
    super(`${quota}: ${message}`, { reason: 'QUOTA_EXCEEDED' });
  }
}

export class TimeoutError extends PostboteError {
  readonly code = 'DEADLINE_EXCEEDED' as const;
  readonly retryable = true;
}

/** The feature is part of the contract but this build does not provide it yet. */
export class NotImplementedError extends PostboteError {
  readonly code = 'UNIMPLEMENTED' as const;
  readonly retryable = false;
}

export class InternalError extends PostboteError {
  readonly code = 'INTERNAL' as const;
  readonly retryable = false;
}

/** Invalid process configuration found at boot. Names the variable, never its value. */
export class ConfigError extends PostboteError {
  readonly code = 'CONFIG' as const;
  readonly retryable = false;
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof PostboteError ? err.retryable : false;
}
