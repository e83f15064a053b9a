import { randomBytes } from 'node:crypto';
import { createBus, loadBusConfig } from '@postbote/bus';
import { loadConfigServiceConfig, startConfigService } from '@postbote/config';
import { loadConsoleConfig, startConsole, type RunningConsole } from '@postbote/console';
import { loadFetcherServiceConfig, startFetcherService } from '@postbote/fetcher';
import { readVar } from '@postbote/env';
import { runService } from '@postbote/grpc-runtime';
import { loadStorageServiceConfig, startStorageService } from '@postbote/storage';
import { loadTriggerServiceConfig, startTriggerService } from '@postbote/trigger';

/**
 * `postbote start`: all four services and the web console in one process on the embedded default (SQLite
 * file under POSTBOTE_DATA_DIR, in-process bus), each on its own loopback port. The
 * same variables as for separate services switch it to MariaDB (DATABASE_URL) and
 * Kafka (KAFKA_BROKERS). Bundled apart from the CLI (dist/apps/cli/all-in-one.js), so the
 * commands that only talk gRPC never load the services.
 */
export function runAllInOne(): void {
  {
    // Inside one process the internal token only identifies the fetcher's calls on the
    // loopback ports; mint one per run unless the operator set it (a separate fetcher then
    // needs the same value).
    const environment = { ...process.env };
    if (!environment['POSTBOTE_INTERNAL_TOKEN'] && !environment['POSTBOTE_INTERNAL_TOKEN_FILE']) {
      environment['POSTBOTE_INTERNAL_TOKEN'] = randomBytes(24).toString('base64url');
    }
    runService('postbote', environment, async (env, logger) => {
      const configCfg = loadConfigServiceConfig(env);
      const storageCfg = loadStorageServiceConfig(env);
      const triggerCfg = loadTriggerServiceConfig(env);
      const fetcherCfg = loadFetcherServiceConfig(env);
      const consoleCfg = readVar(env, 'CONSOLE_ENABLED') ? loadConsoleConfig(env) : null;
      const busConfig = loadBusConfig(env, 'postbote');
      const bus = createBus(busConfig, (fields, msg) => logger.warn(fields, msg));
      const config = await startConfigService(configCfg, { bus, logger: logger.child({ component: 'config-service' }) });
      // One token authority for all four: the config service's, asked directly.
      const tokens = config.tokens;
      const storage = await startStorageService(storageCfg, { bus, tokens, logger: logger.child({ component: 'storage-service' }) });
      const trigger = await startTriggerService(triggerCfg, { bus, busConfig, tokens, logger: logger.child({ component: 'trigger-service' }), outboxWritten: storage.outboxWritten });
      const fetcher = await startFetcherService(fetcherCfg, { bus, tokens, logger: logger.child({ component: 'fetcher-service' }), storeEmails: storage.localStoreEmails, peersInProcess: true });
      const web: RunningConsole | null = consoleCfg ? await startConsole(consoleCfg, { logger: logger.child({ component: 'console' }) }) : null;
      logger.info(
        { bus: bus.kind, config: config.address, storage: storage.address, trigger: trigger.address, fetcher: fetcher.address, console: web?.url ?? 'off' },
        web ? `postbote is running; web console at ${web.url} (add a user: postbote console add-user NAME --role admin --password-stdin)` : 'postbote is running',
      );
      return {
        stop: async () => {
          // Reverse order: stop producers of work before what they depend on.
          await web?.stop();
          await fetcher.stop();
          await trigger.stop();
          await storage.stop();
          await config.stop();
          await bus.close();
        },
      };
    });
  }
}
