import type { IncomingEmail } from './incoming-email';

/** One object as a listing shows it. */
export interface BlobListing {
  readonly key: string;
  readonly lastModified: Date;
}

/**
 * Where raw mail goes when it is not kept as chunks in the database (MAIL_BLOBS_URL,
 * decision 0029): one object per stored email, written before the row that names it
 * commits, deleted after the row is gone. Failures are typed: UnavailableError
 * (BLOB_STORE_UNAVAILABLE) when the store cannot be reached or answers with a server error —
 * retried by the connector's backoff; PreconditionError (BLOB_STORE_DENIED) when it refuses
 * the credentials or the bucket — a configuration error, which retrying does not mend.
 */
export interface BlobStore {
  /** Where, for logs and errors (`s3://bucket/prefix at endpoint`); never credentials. */
  readonly description: string;
  /** The object key of a stored email's bytes. */
  keyFor(workspace: string, connectorId: string, emailId: string): string;
  /** The email id an object key names, or undefined for a key that is not one of ours. */
  emailIdOf(key: string): string | undefined;
  /** Writes the whole email; resolves once the store acknowledged it (durably written). */
  put(key: string, body: IncomingEmail, size: number, sha256: string): Promise<void>;
  /** The object's bytes in order; fails when the object is missing or not `size` bytes long. */
  get(key: string, size: number): AsyncGenerator<Buffer>;
  /** Deletes the objects (batched); a missing object is no error. */
  delete(keys: readonly string[]): Promise<void>;
  /** Our objects in key order, a page at a time, from after `after`. */
  list(after: string | undefined, max: number): Promise<{ readonly objects: readonly BlobListing[]; readonly done: boolean }>;
  /** At start: the bucket exists and the credentials may use it. */
  check(): Promise<void>;
  close(): void;
}

/** Object names under the configured prefix: `<workspace>/<connector>/<email>.eml`. */
export const BLOB_SUFFIX = '.eml';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The key layout, in one place. A workspace's mail lies under its own prefix (a bucket
 * policy or lifecycle rule can name one customer), then its connector's; the file name is
 * the email's id, which the orphan sweep reads back.
 */
export function blobKeyFor(prefix: string, workspace: string, connectorId: string, emailId: string): string {
  return `${prefix}${encodeURIComponent(workspace)}/${connectorId}/${emailId}${BLOB_SUFFIX}`;
}

export function emailIdOfKey(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix) || !key.endsWith(BLOB_SUFFIX)) return undefined;
  const name = key.slice(key.lastIndexOf('/') + 1, -BLOB_SUFFIX.length);
  return UUID.test(name) ? name : undefined;
}
