import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type ServerSideEncryption, type StorageClass } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ConfigError, InternalError, PreconditionError, UnavailableError } from '@postbote/errors';
import { blobKeyFor, emailIdOfKey, type BlobListing, type BlobStore } from './blob-store';
import type { IncomingEmail } from './incoming-email';

/** MAIL_BLOBS_URL, read: `s3://bucket/prefix?endpoint=…&region=…&path_style=…&sse=…&sse_kms_key_id=…&storage_class=…`. */
export interface S3BlobsConfig {
  readonly bucket: string;
  /** '' or ending in '/'. */
  readonly prefix: string;
  /** An S3-compatible server (Ceph RGW, MinIO, S3Proxy…); unset: AWS's own endpoint for the region. */
  readonly endpoint: string | undefined;
  readonly region: string;
  /** `bucket` in the path, not the host name: what most servers other than AWS want (the default with an endpoint). */
  readonly pathStyle: boolean;
  readonly serverSideEncryption: ServerSideEncryption | undefined;
  readonly kmsKeyId: string | undefined;
  readonly storageClass: StorageClass | undefined;
}

const VARIABLE = 'MAIL_BLOBS_URL';
const PARAMS = ['endpoint', 'region', 'path_style', 'sse', 'sse_kms_key_id', 'storage_class'];
const SSE = ['AES256', 'aws:kms', 'aws:kms:dsse'];

/** Parses MAIL_BLOBS_URL; a mistake names the variable and the part, never a value that could be a secret. */
export function parseBlobsUrl(text: string): S3BlobsConfig {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(VARIABLE, 'is not a URL (expected s3://bucket/prefix?endpoint=…)');
  }
  if (url.protocol !== 's3:') throw new ConfigError(VARIABLE, `scheme ${url.protocol} is not supported (expected s3://)`);
  if (url.username || url.password) throw new ConfigError(VARIABLE, 'must not carry credentials: use AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a credentials file (AWS_SHARED_CREDENTIALS_FILE)');
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(VARIABLE, 'names no valid bucket (3-63 lower-case letters, digits, dots and hyphens)');
  for (const key of url.searchParams.keys()) if (!PARAMS.includes(key)) throw new ConfigError(VARIABLE, `unknown parameter ${key} (known: ${PARAMS.join(', ')})`);
  const p = (name: string) => url.searchParams.get(name) ?? undefined;
  const endpoint = p('endpoint');
  if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) throw new ConfigError(VARIABLE, 'endpoint must be http(s)://host[:port]');
  const pathStyle = p('path_style');
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') throw new ConfigError(VARIABLE, 'path_style must be true or false');
  const sse = p('sse');
  if (sse !== undefined && !SSE.includes(sse)) throw new ConfigError(VARIABLE, `sse must be one of ${SSE.join(', ')}`);
  if (p('sse_kms_key_id') && !sse?.startsWith('aws:kms')) throw new ConfigError(VARIABLE, 'sse_kms_key_id needs sse=aws:kms (or aws:kms:dsse)');
  const storageClass = p('storage_class');
  if (storageClass !== undefined && !/^[A-Z_]{2,32}$/.test(storageClass)) throw new ConfigError(VARIABLE, 'storage_class must be a storage class name such as STANDARD_IA');
  const path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
  return {
    bucket,
    prefix: path && !path.endsWith('/') ? `${path}/` : path,
    endpoint: endpoint?.replace(/\/$/, ''),
    // S3-compatible servers mostly ignore the region; AWS needs the bucket's own.
    region: p('region') ?? 'us-east-1',
    pathStyle: pathStyle === undefined ? endpoint !== undefined : pathStyle === 'true',
    serverSideEncryption: sse as ServerSideEncryption | undefined,
    kmsKeyId: p('sse_kms_key_id'),
    storageClass: storageClass as StorageClass | undefined,
  };
}

/** What the S3 client may take per request; the connector's backoff retries beyond that. */
export const S3_TUNING = Object.freeze({
  connectTimeoutMs: 5_000,
  /** A request without progress for this long fails (a slow store must not hold a store stream for minutes). */
  requestTimeoutMs: 20_000,
  /** Attempts per request, the SDK's own backoff between them. */
  maxAttempts: 2,
  /** Spilled (large) emails go up in parts of this size, two at a time. */
  partBytes: 8 * 1024 * 1024,
  partsInFlight: 2,
  /** DeleteObjects takes at most 1,000 keys. */
  deleteBatch: 1_000,
});

/** S3 error names that mean "the credentials or the bucket are wrong": configuration, not an outage. */
const DENIED = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'NoSuchBucket', 'AllAccessDisabled', 'InvalidToken', 'ExpiredToken', 'CredentialsProviderError', 'InvalidBucketName', 'AuthorizationHeaderMalformed']);

/** The typed error for a failed S3 call: denied (configuration) or unavailable (retry later). */
export function blobStoreError(err: unknown, what: string, where: string): Error {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const detail = `${e.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e.message ?? String(err)}`;
  if (DENIED.has(e.name ?? '') || status === 403) {
    return new PreconditionError(`the object store ${where} refused to ${what}: ${detail} — check MAIL_BLOBS_URL and the AWS credentials`, { reason: 'BLOB_STORE_DENIED', cause: err });
  }
  return new UnavailableError(`the object store ${where} could not ${what}: ${detail}`, { reason: 'BLOB_STORE_UNAVAILABLE', cause: err });
}

/**
 * DeleteObjects is an operation S3 requires a body checksum for. The SDK sends a CRC32
 * (x-amz-checksum-crc32) there even with checksums "when required", which many S3-compatible
 * servers do not know (S3Proxy answers 501, MinIO and Ceph versions refuse it), where every
 * S3 implementation takes Content-MD5 — the SDK's own documented fallback
 * (supplemental-docs/MD5_FALLBACK.md): the MD5 of the small XML list of keys, before signing.
 */
function contentMd5ForDeletes(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (context.commandName === 'DeleteObjectsCommand' && request.headers && (typeof request.body === 'string' || request.body instanceof Uint8Array)) {
        for (const name of Object.keys(request.headers)) if (/^x-amz-(checksum-|sdk-checksum-algorithm)/i.test(name)) delete request.headers[name];
        request.headers['content-md5'] = createHash('md5').update(request.body).digest('base64');
      }
      return next(args);
    },
    { step: 'build', name: 'postboteDeleteObjectsContentMd5', priority: 'low' },
  );
}

/**
 * SigV4 signs a hash of the body: the SDK would hash every PutObject's bytes once more,
 * where the email's SHA-256 is already known (it rides along as the object's metadata). Handed
 * over as x-amz-content-sha256, the server also checks that the bytes it received are the
 * email's (AWS refuses a mismatch: XAmzContentSHA256Mismatch). Only for a body in memory: a
 * streamed one is signed UNSIGNED-PAYLOAD or chunked by the SDK itself.
 */
function knownPayloadHash(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      const sha256 = (args.input as { Metadata?: Record<string, string> }).Metadata?.sha256;
      if (context.commandName === 'PutObjectCommand' && request.headers && request.body instanceof Uint8Array && sha256 && /^[0-9a-f]{64}$/.test(sha256)) {
        request.headers['x-amz-content-sha256'] = sha256;
      }
      return next(args);
    },
    { step: 'build', name: 'postboteKnownPayloadHash', priority: 'low' },
  );
}

/** Raw mail in an S3 bucket (AWS S3, Ceph RGW, MinIO, R2, S3Proxy…) through the AWS SDK v3. */
export class S3BlobStore implements BlobStore {
  readonly description: string;
  readonly #client: S3Client;

  /** `credentials`: given (tests, tools); by default the SDK's chain (AWS_* variables, credentials file, instance roles). */
  constructor(
    private readonly config: S3BlobsConfig,
    credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string },
  ) {
    this.description = `s3://${config.bucket}/${config.prefix}${config.endpoint ? ` at ${config.endpoint}` : ` in ${config.region}`}`;
    this.#client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.pathStyle,
      ...(credentials ? { credentials } : {}),
      maxAttempts: S3_TUNING.maxAttempts,
      // Checksums only where an operation requires them: the SDK's default trailing CRC32
      // (aws-chunked uploads) is not understood by every S3-compatible server. The bytes'
      // SHA-256 rides along as object metadata and is checked on every download.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: S3_TUNING.connectTimeoutMs, requestTimeout: S3_TUNING.requestTimeoutMs },
      // The middleware stack resolved once per command class instead of on every request
      // (~0.3 ms of CPU per PutObject on this machine's bench): this client's own middleware is
      // added below, before any request, and never changed; every request goes to one bucket,
      // so the endpoint and auth scheme the cached stack's context carries are the same for all.
      cacheMiddleware: true,
    });
    contentMd5ForDeletes(this.#client);
    knownPayloadHash(this.#client);
  }

  keyFor(workspace: string, connectorId: string, emailId: string): string {
    return blobKeyFor(this.config.prefix, workspace, connectorId, emailId);
  }

  emailIdOf(key: string): string | undefined {
    return emailIdOfKey(this.config.prefix, key);
  }

  async put(key: string, body: IncomingEmail, size: number, sha256: string): Promise<void> {
    const c = this.config;
    const params = {
      Bucket: c.bucket,
      Key: key,
      ContentType: 'message/rfc822',
      Metadata: { sha256 },
      ...(c.serverSideEncryption ? { ServerSideEncryption: c.serverSideEncryption } : {}),
      ...(c.kmsKeyId ? { SSEKMSKeyId: c.kmsKeyId } : {}),
      ...(c.storageClass ? { StorageClass: c.storageClass } : {}),
    };
    try {
      const whole = body.inMemory();
      if (whole) {
        // The declared length makes a short body fail the request. No x-amz-checksum-* header:
        // S3-compatible servers that do not implement one refuse the whole PUT (S3Proxy: 501).
        await this.#client.send(new PutObjectCommand({ ...params, Body: whole, ContentLength: size }));
        return;
      }
      if (!body.path) throw new InternalError(`email for ${key} has neither bytes in memory nor a scratch file`);
      await new Upload({ client: this.#client, params: { ...params, Body: createReadStream(body.path) }, partSize: S3_TUNING.partBytes, queueSize: S3_TUNING.partsInFlight, leavePartsOnError: false }).done();
      // A multipart object has no whole-object SHA-256 to send along: its length is checked instead
      // (every download checks the SHA-256).
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: c.bucket, Key: key }));
      if (head.ContentLength !== size) throw new UnavailableError(`the object store holds ${head.ContentLength} bytes for ${key}, ${size} were sent`, { reason: 'BLOB_STORE_UNAVAILABLE' });
    } catch (err) {
      if (err instanceof InternalError || err instanceof UnavailableError) throw err;
      throw blobStoreError(err, `store ${key}`, this.description);
    }
  }

  async *get(key: string, size: number): AsyncGenerator<Buffer> {
    let body: Readable;
    try {
      const res = await this.#client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }));
      if (res.ContentLength !== size) throw new InternalError(`the object ${key} has ${res.ContentLength} bytes where its email has ${size}`);
      body = res.Body as Readable;
    } catch (err) {
      if (err instanceof InternalError) throw err;
      if ((err as { name?: string }).name === 'NoSuchKey') throw new InternalError(`the object ${key} of a stored email is missing from ${this.description}`, { cause: err });
      throw blobStoreError(err, `read ${key}`, this.description);
    }
    let seen = 0;
    try {
      for await (const piece of body) {
        seen += (piece as Buffer).length;
        yield piece as Buffer;
      }
    } catch (err) {
      throw blobStoreError(err, `read ${key}`, this.description);
    } finally {
      body.destroy();
    }
    if (seen !== size) throw new InternalError(`the object ${key} ended after ${seen} of ${size} bytes`);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += S3_TUNING.deleteBatch) {
      const batch = keys.slice(i, i + S3_TUNING.deleteBatch);
      let failed: { Key?: string; Code?: string; Message?: string } | undefined;
      try {
        const res = await this.#client.send(new DeleteObjectsCommand({ Bucket: this.config.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
        failed = res.Errors?.find((e) => e.Code !== 'NoSuchKey');
      } catch (err) {
        throw blobStoreError(err, `delete ${batch.length} object(s)`, this.description);
      }
      if (failed) throw blobStoreError(Object.assign(new Error(failed.Message ?? ''), { name: failed.Code }), `delete ${failed.Key}`, this.description);
    }
  }

  async list(after: string | undefined, max: number): Promise<{ objects: BlobListing[]; done: boolean }> {
    try {
      const res = await this.#client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: this.config.prefix, MaxKeys: max, ...(after ? { StartAfter: after } : {}) }));
      const objects = (res.Contents ?? []).flatMap((o) => (o.Key && o.LastModified ? [{ key: o.Key, lastModified: o.LastModified }] : []));
      return { objects, done: !res.IsTruncated };
    } catch (err) {
      throw blobStoreError(err, 'list objects', this.description);
    }
  }

  async check(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.config.bucket }));
    } catch (err) {
      const e = blobStoreError(err, 'open the bucket', this.description);
      // HEAD answers a missing bucket with a bare 404.
      if (e instanceof PreconditionError || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) throw new ConfigError(VARIABLE, e.message);
      throw e;
    }
  }

  close(): void {
    this.#client.destroy();
  }
}
