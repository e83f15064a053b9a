import { EnvReader, type Environment } from '@postbote/env';
import { PostboteError } from '@postbote/errors';
import { createLogger, type Logger, type LogLevel } from '@postbote/logging';
import { stopOnSignals } from './lifecycle';

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The whole life of a service process: read configuration once, start, stop cleanly
 * on SIGTERM/SIGINT. A configuration error is printed naming the variable and the
 * process exits 2 before anything starts.
 */
export function runService(
  service: string,
  environment: Environment,
  start: (env: EnvReader, logger: Logger) => Promise<{ stop(): Promise<void> }>,
): void {
  let logger: Logger;
  const env = new EnvReader(environment);
  try {
    logger = createLogger({ service, level: env.oneOf('LOG_LEVEL', LEVELS, 'info') });
  } catch (err) {
    process.stderr.write(`${service}: configuration error: ${(err as Error).message}\n`);
    process.exit(2);
  }
  start(env, logger).then(
    (running) => stopOnSignals(logger, () => running.stop()),
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
