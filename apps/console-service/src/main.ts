import { loadConsoleConfig, startConsole } from '@postbote/console';
import { runService } from '@postbote/grpc-runtime';

runService('console-service', process.env, async (env, logger) => {
  const web = await startConsole(loadConsoleConfig(env), { logger });
  logger.info({ url: web.url }, 'web console is listening');
  return { stop: () => web.stop() };
});
