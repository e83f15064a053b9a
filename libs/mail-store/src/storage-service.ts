import type { Bus } from '@postbote/bus';
import type { EnvReader } from '@postbote/env';
import { startGrpcServer, unimplementedService } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { FILE_DESCRIPTOR_SET_BASE64, StorageServiceService } from '@postbote/proto';

export const DEFAULT_STORAGE_SERVICE_ADDR = '127.0.0.1:50052';

export interface StorageServiceConfig {
  readonly address: string;
}

export function loadStorageServiceConfig(env: EnvReader): StorageServiceConfig {
  return Object.freeze({ address: env.address('STORAGE_SERVICE_ADDR', DEFAULT_STORAGE_SERVICE_ADDR) });
}

export interface RunningStorageService {
  readonly address: string;
  stop(): Promise<void>;
}

/**
 * Serves the StorageService contract. Its behaviour arrives with the storage service (issue #3);
 * until then the service runs, answers health checks and reflection, and every
 * method returns UNIMPLEMENTED saying so.
 */
export async function startStorageService(
  config: StorageServiceConfig,
  deps: { readonly bus: Bus; readonly logger: Logger },
): Promise<RunningStorageService> {
  const server = await startGrpcServer({
    address: config.address,
    services: [unimplementedService('postbote.v1.StorageService', StorageServiceService, 'not available yet: arrives with the storage service (issue #3)', deps.logger)],
    logger: deps.logger,
    descriptorSetBase64: FILE_DESCRIPTOR_SET_BASE64,
  });
  return { address: server.address, stop: () => server.stop() };
}
