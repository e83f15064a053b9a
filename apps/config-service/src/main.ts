import { createBus, loadBusConfig } from '@postbote/bus';
import { loadConfigServiceConfig, startConfigService } from '@postbote/config';
import { runService } from '@postbote/grpc-runtime';

runService('config-service', process.env, async (env, logger) => {
  const config = loadConfigServiceConfig(env);
  const bus = createBus(loadBusConfig(env, 'postbote-config-service'), (fields, msg) => logger.warn(fields, msg));
  if (bus.kind === 'in-process') logger.warn('KAFKA_BROKERS is not set: connector events stay inside this process');
  const service = await startConfigService(config, { bus, logger });
  return {
    stop: async () => {
      await service.stop();
      await bus.close();
    },
  };
});
