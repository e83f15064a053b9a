import { EnvReader, readVar, type Environment } from '@postbote/env';
import { ConfigError, PostboteError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import { setConnectorLabels, setWorkspaceLabels, startEndpoint, type EndpointOptions } from '@postbote/metrics';
import { stopOnSignals } from './lifecycle';
import { hostOf, isLoopback } from './transport';

/**
 * The whole life of a service process: read configuration once, start, stop cleanly
 * on SIGTERM/SIGINT. A configuration error is printed naming the variable and the
 * process exits 2 before anything starts.
 *
 * Failures nobody handled are never silent: a stray promise rejection is logged as the
 * bug it is and the process (in the all-in-one: every service) keeps running, since no
 * state was left half-changed by it; an uncaught exception may have, so the process
 * says so on stderr and in the log, stops cleanly and exits 1 for its supervisor to
 * restart it.
 */
export function runService(
  service: string,
  environment: Environment,
  start: (env: EnvReader, logger: Logger) => Promise<{ stop(): Promise<void> }>,
): void {
  let logger: Logger;
  const env = new EnvReader(environment);
  // Loaded here, not at the top: a client (the CLI) that imports this lib never loads pino.
  const { createLogger } = require('@postbote/logging') as typeof import('@postbote/logging');
  try {
    logger = createLogger({ service, level: readVar(env, 'LOG_LEVEL') });
  } catch (err) {
    process.stderr.write(`${service}: configuration error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  let metrics: EndpointOptions | undefined;
  try {
    metrics = metricsEndpointFrom(env);
  } catch (err) {
    process.stderr.write(`${service}: configuration error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  let running: { stop(): Promise<void> } | undefined;
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled promise rejection (a bug; the service keeps running)');
  });
  process.on('uncaughtException', (err: Error) => {
    process.stderr.write(`${service}: uncaught exception, stopping: ${err.stack ?? err.message}\n`);
    logger.fatal({ err }, 'uncaught exception; stopping cleanly');
    const exit = () => {
      logger.flush();
      process.exit(1);
    };
    setTimeout(exit, 10_000).unref();
    (running ? running.stop() : Promise.resolve()).then(exit, exit);
  });
  start(env, logger)
    .then((r) => (metrics ? withEndpoint(r, metrics, logger) : r))
    .then(
      (r) => {
        running = r;
        stopOnSignals(logger, () => r.stop());
      },
      (err: unknown) => {
        if (err instanceof PostboteError && err.code === 'CONFIG') {
          process.stderr.write(`${service}: configuration error: ${err.message}\n`);
          process.exit(2);
        }
        logger.fatal({ err }, 'failed to start');
        logger.flush();
        setTimeout(() => process.exit(1), 100).unref();
      },
    );
}

/** `METRICS_ADDR` and its token, checked before anything starts; undefined when metrics are off. */
function metricsEndpointFrom(env: EnvReader): EndpointOptions | undefined {
  setConnectorLabels(readVar(env, 'METRICS_CONNECTOR_LABELS'));
  setWorkspaceLabels(readVar(env, 'METRICS_WORKSPACE_LABELS'));
  const address = readVar(env, 'METRICS_ADDR');
  if (address === undefined) return undefined;
  const host = hostOf(address);
  const token = readVar(env, 'METRICS_TOKEN');
  if (token !== undefined && token.length < 16) throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters');
  if (!isLoopback(host) && token === undefined) throw new ConfigError('METRICS_ADDR', `${address} is reachable beyond this host: set METRICS_TOKEN so that only Prometheus reads the metrics`);
  return { host, port: Number(address.slice(address.lastIndexOf(':') + 1)), token };
}

/** Serves the HTTP endpoint beside a started service; it closes first when the service stops. */
async function withEndpoint(service: { stop(): Promise<void> }, options: EndpointOptions, logger: Logger): Promise<{ stop(): Promise<void> }> {
  const endpoint = await startEndpoint(options).catch(async (err: unknown) => {
    await service.stop();
    throw err;
  });
  logger.info({ metrics: `${endpoint.url}/metrics` }, 'metrics, health and readiness over HTTP');
  return {
    stop: async () => {
      await endpoint.close();
      await service.stop();
    },
  };
}
