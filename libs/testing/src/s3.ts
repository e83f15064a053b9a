import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

/** S3Proxy of scripts/test-env.sh: an S3 API server on its filesystem backend (decision 0029). */
export const S3PROXY = {
  endpoint: 'http://127.0.0.1:23380',
  accessKeyId: 'postbote-test',
  secretAccessKey: 'postbote-test-secret',
} as const;

export const S3PROXY_CREDENTIALS = { accessKeyId: S3PROXY.accessKeyId, secretAccessKey: S3PROXY.secretAccessKey };

/** A client of the test server, for a test's own look into a bucket (`options`: the SDK's, e.g. the bench's `cacheMiddleware`). */
export function s3TestClient(options: { readonly cacheMiddleware?: boolean } = {}): S3Client {
  return new S3Client({ region: 'us-east-1', endpoint: S3PROXY.endpoint, forcePathStyle: true, credentials: S3PROXY_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', ...options });
}

/** A fresh, empty bucket of its own for a test; its MAIL_BLOBS_URL, the process environment that reaches it, its objects' keys and their bytes in all. */
export async function testBucket(prefix = 'mail/'): Promise<{ bucket: string; url: string; env: Record<string, string>; keys(): Promise<string[]>; bytes(): Promise<number> }> {
  const bucket = `pb-test-${randomBytes(6).toString('hex')}`;
  const client = s3TestClient();
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
  const url = `s3://${bucket}/${prefix}?endpoint=${encodeURIComponent(S3PROXY.endpoint)}`;
  const objects = async () => {
    const c = s3TestClient();
    try {
      const out: Array<{ key: string; size: number }> = [];
      let token: string | undefined;
      do {
        const res = await c.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
        // S3Proxy's filesystem backend lists its folders too ("a/b/"): those are not objects.
        out.push(...(res.Contents ?? []).map((o) => ({ key: o.Key ?? '', size: o.Size ?? 0 })).filter((o) => !o.key.endsWith('/')));
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
      } while (token);
      return out;
    } finally {
      c.destroy();
    }
  };
  return {
    bucket,
    url,
    env: { MAIL_BLOBS_URL: url, AWS_ACCESS_KEY_ID: S3PROXY.accessKeyId, AWS_SECRET_ACCESS_KEY: S3PROXY.secretAccessKey },
    keys: async () => (await objects()).map((o) => o.key),
    bytes: async () => (await objects()).reduce((n, o) => n + o.size, 0),
  };
}
