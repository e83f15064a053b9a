import type { DatabaseConfig } from '@postbote/db';
import { fromGrpcError } from '@postbote/grpc-runtime';
import type { StorageServiceClient } from '@postbote/proto';
import { TEST_SECURITY, tempDir } from '@postbote/testing';
import type { StorageServiceConfig } from '../storage-service';

/** A storage service for a test: port 0, its own scratch folder, one parser thread; `over` for what the test is about. */
export function testServiceConfig(database: DatabaseConfig, over: Partial<StorageServiceConfig> = {}): StorageServiceConfig {
  return {
    address: '127.0.0.1:0',
    publicAddress: undefined,
    database,
    spoolDir: `${tempDir('pb-storage-')}/spool`,
    maxMessageBytes: 80 * 1024 * 1024,
    purgeIntervalSeconds: 3600,
    purgeBatchSize: 50,
    logRetentionDays: 30,
    dedupeExtraDays: 365,
    parseWorkers: 1,
    security: TEST_SECURITY,
    configAddress: '127.0.0.1:1',
    ...over,
  };
}

/** An email's raw bytes as DownloadRawEmail streams them; a failure arrives as the typed error. */
export function downloadRaw(reader: Pick<StorageServiceClient, 'downloadRawEmail'>, emailId: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    const stream = reader.downloadRawEmail({ emailId });
    stream.on('data', (c: { data: Buffer }) => parts.push(c.data));
    stream.on('error', (e) => reject(fromGrpcError(e as never)));
    stream.on('end', () => resolve(Buffer.concat(parts)));
  });
}
