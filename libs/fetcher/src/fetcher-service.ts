import type { Bus } from '@postbote/bus';
import type { EnvReader } from '@postbote/env';
import { startGrpcServer, unimplementedService } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { FILE_DESCRIPTOR_SET_BASE64, FetcherServiceService } from '@postbote/proto';

export const DEFAULT_FETCHER_SERVICE_ADDR = '127.0.0.1:50054';

export interface FetcherServiceConfig {
  readonly address: string;
}

export function loadFetcherServiceConfig(env: EnvReader): FetcherServiceConfig {
  return Object.freeze({ address: env.address('FETCHER_SERVICE_ADDR', DEFAULT_FETCHER_SERVICE_ADDR) });
}

export interface RunningFetcherService {
  readonly address: string;
  stop(): Promise<void>;
}

/**
 * Serves the FetcherService contract. Its behaviour arrives with the fetcher service (issues #4, #5, #7);
 * until then the service runs, answers health checks and reflection, and every
 * method returns UNIMPLEMENTED saying so.
 */
export async function startFetcherService(
  config: FetcherServiceConfig,
  deps: { readonly bus: Bus; readonly logger: Logger },
): Promise<RunningFetcherService> {
  const server = await startGrpcServer({
    address: config.address,
    services: [unimplementedService('postbote.v1.FetcherService', FetcherServiceService, 'not available yet: arrives with the fetcher service (issues #4, #5, #7)', deps.logger)],
    logger: deps.logger,
    descriptorSetBase64: FILE_DESCRIPTOR_SET_BASE64,
  });
  return { address: server.address, stop: () => server.stop() };
}
