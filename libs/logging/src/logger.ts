import pino, { type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';
export type LogLevel = LevelWithSilent;

/**
 * Any key with one of these names is censored wherever it appears (up to the
 * depth pino's redaction paths reach). This is the second line of defence: secrets
 * are also wrapped in `Secret` where they enter, which prints as [REDACTED].
 */
const SECRET_KEYS = ['password', 'pass', 'secret', 'masterKey', 'masterKeys', 'token', 'authorization', 'trustedCaKey'];

export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);

export interface LoggerOptions {
  /** Service name, e.g. "config-service". */
  readonly service: string;
  readonly level: LogLevel;
  /** Where JSON lines go; stdout when absent. Tests pass a capture stream. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** Child logger for one connector; every line carries its id. */
export function connectorLogger(logger: Logger, connectorId: string): Logger {
  return logger.child({ connectorId });
}

/** Collects log lines in memory (tests assert that no secret ever reaches a log). */
export class CapturedLog implements DestinationStream {
  readonly lines: string[] = [];

  write(line: string): void {
    this.lines.push(line);
  }

  get text(): string {
    return this.lines.join('');
  }

  entries(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
