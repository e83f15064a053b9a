import { createBus, loadBusConfig } from '@postbote/bus';
import { runService } from '@postbote/grpc-runtime';
import { loadTriggerServiceConfig, startTriggerService } from '@postbote/trigger';

runService('trigger-service', process.env, async (env, logger) => {
  const config = loadTriggerServiceConfig(env);
  const busConfig = loadBusConfig(env, 'postbote-trigger-service');
  const bus = createBus(busConfig, (fields, msg) => logger.warn(fields, msg));
  const service = await startTriggerService(config, { bus, busConfig, logger });
  return {
    stop: async () => {
      await service.stop();
      await bus.close();
    },
  };
});
