import { createBus, loadBusConfig } from '@postbote/bus';
import { runService } from '@postbote/grpc-runtime';
import { loadStorageServiceConfig, startStorageService } from '@postbote/storage';

runService('storage-service', process.env, async (env, logger) => {
  const config = loadStorageServiceConfig(env);
  const bus = createBus(loadBusConfig(env, 'postbote-storage-service'), (fields, msg) => logger.warn(fields, msg));
  const service = await startStorageService(config, { bus, logger });
  return {
    stop: async () => {
      await service.stop();
      await bus.close();
    },
  };
});
