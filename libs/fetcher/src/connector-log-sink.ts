import { call } from '@postbote/grpc-runtime';
import type { Logger } from '@postbote/logging';
import type { RunLog, RunLogLevel } from '@postbote/mailbox';
import { LogLevel, type ConnectorLogEntry, type StorageServiceClient } from '@postbote/proto';

const MAX_PENDING = 5_000;

/**
 * Writes connector log entries to the storage service in the background: a run never
 * waits for its log. Entries queue while storage is away (bounded; the oldest go first
 * when full, counted in the process log) and flush in order when it returns.
 */
export class ConnectorLogSink {
  #pending: ConnectorLogEntry[] = [];
  #flushing: Promise<void> | undefined;
  #dropped = 0;

  constructor(
    private readonly storage: StorageServiceClient,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  for(connectorId: string): RunLog {
    const child = this.logger.child({ connectorId });
    return (level: RunLogLevel, code: string, message: string) => {
      child[level === 'ERROR' ? 'error' : level === 'WARN' ? 'warn' : level === 'INFO' ? 'info' : 'debug']({ code }, message);
      if (this.#pending.length >= MAX_PENDING) {
        this.#pending.shift();
        this.#dropped++;
      }
      this.#pending.push({ id: '', connectorId, time: this.now(), level: LogLevel[level], code, message });
      this.#kick();
    };
  }

  async flush(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  #kick(): void {
    if (this.#flushing) return;
    this.#flushing = (async () => {
      try {
        while (this.#pending.length > 0) {
          const batch = this.#pending.slice(0, 200);
          await call(this.storage.appendConnectorLog, this.storage, { entries: batch }, { deadlineMs: 10_000 });
          this.#pending.splice(0, batch.length);
        }
        if (this.#dropped) {
          this.logger.warn({ dropped: this.#dropped }, 'connector log entries dropped while storage was unreachable');
          this.#dropped = 0;
        }
      } catch (err) {
        this.logger.warn({ err: { message: (err as Error).message }, pending: this.#pending.length }, 'connector log not written yet; retrying');
        await new Promise((r) => setTimeout(r, 2_000).unref());
        this.#flushing = undefined;
        this.#kick();
        return;
      }
      this.#flushing = undefined;
    })();
  }
}
