import type { Bus } from '@postbote/bus';
import type { EnvReader } from '@postbote/env';
import { startGrpcServer, unimplementedService } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import { FILE_DESCRIPTOR_SET_BASE64, TriggerServiceService } from '@postbote/proto';

export const DEFAULT_TRIGGER_SERVICE_ADDR = '127.0.0.1:50053';

export interface TriggerServiceConfig {
  readonly address: string;
}

export function loadTriggerServiceConfig(env: EnvReader): TriggerServiceConfig {
  return Object.freeze({ address: env.address('TRIGGER_SERVICE_ADDR', DEFAULT_TRIGGER_SERVICE_ADDR) });
}

export interface RunningTriggerService {
  readonly address: string;
  stop(): Promise<void>;
}

/**
 * Serves the TriggerService contract. Its behaviour arrives with the trigger service (issue #6);
 * until then the service runs, answers health checks and reflection, and every
 * method returns UNIMPLEMENTED saying so.
 */
export async function startTriggerService(
  config: TriggerServiceConfig,
  deps: { readonly bus: Bus; readonly logger: Logger },
): Promise<RunningTriggerService> {
  const server = await startGrpcServer({
    address: config.address,
    services: [unimplementedService('postbote.v1.TriggerService', TriggerServiceService, 'not available yet: arrives with the trigger service (issue #6)', deps.logger)],
    logger: deps.logger,
    descriptorSetBase64: FILE_DESCRIPTOR_SET_BASE64,
  });
  return { address: server.address, stop: () => server.stop() };
}
