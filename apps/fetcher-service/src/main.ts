import { createBus, loadBusConfig } from '@postbote/bus';
import { runService } from '@postbote/grpc-runtime';
import { loadFetcherServiceConfig, startFetcherService } from '@postbote/fetcher';

runService('fetcher-service', process.env, async (env, logger) => {
  const config = loadFetcherServiceConfig(env);
  const bus = createBus(loadBusConfig(env, 'postbote-fetcher-service'), (fields, msg) => logger.warn(fields, msg));
  const service = await startFetcherService(config, { bus, logger });
  return {
    stop: async () => {
      await service.stop();
      await bus.close();
    },
  };
});
