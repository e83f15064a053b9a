import { backoffDelay } from '@postbote/backoff';
import type { ConnectorSettings } from '@postbote/connector-model';
import { MailboxError, type RunCounts, type RunLog, type RunMemory } from '@postbote/mailbox';
import { fetcherMetrics, workspaceLabel } from '@postbote/metrics';
import type { Clock } from '@postbote/backoff';
import type { RunSlots } from './run-slots';

/** A connector as its actor runs it (from the connectors topic; never credentials). */
export interface FetchConnector {
  readonly id: string;
  readonly workspace: string;
  readonly revision: number;
  readonly settings: ConnectorSettings;
}

/** The actor's state; one line each, as the API reports them. */
export type ActorState =
  /** Waiting for the next poll. */
  | 'IDLE'
  /** Due for a run, waiting for a run slot of its workspace (its quota of runs at once). */
  | 'WAITING'
  /** A poll is in progress. */
  | 'POLLING'
  /** The last run failed; waiting (growing delays) before the next try. */
  | 'BACKOFF'
  /** Repeated login failures: parked until the connector's config changes or it is re-enabled. */
  | 'AUTH_FAILED'
  /** Stopped for good (disabled, deleted, moved to another fetcher, shutdown). */
  | 'STOPPED';

export type ActorCommand =
  | { readonly type: 'POLL' }
  | { readonly type: 'CONFIGURE'; readonly connector: FetchConnector }
  | { readonly type: 'STOP' };

export interface RunSummary extends RunCounts {
  readonly more: boolean;
}

/**
 * One poll; `signal` aborts it (stop, reconfigure, watchdog). `memory` is the
 * connector's, kept by its actor between runs and dropped with it.
 */
export type ConnectorPoll = (connector: FetchConnector, signal: AbortSignal, memory: RunMemory) => Promise<RunSummary>;

export interface ActorOptions {
  /** Consecutive login failures before parking in AUTH_FAILED. */
  readonly maxAuthFailures: number;
  /** First wait after a login failure; doubles each time. Hard on purpose: lockouts. */
  readonly authBackoffMs: number;
  /** Longest wait between retries of any failure. */
  readonly maxBackoffMs: number;
}

export interface ActorStatus {
  readonly connectorId: string;
  readonly workspace: string;
  readonly revision: number;
  readonly state: ActorState;
  readonly lastSuccessAt: number | null;
  readonly lastError: string;
  readonly lastErrorAt: number | null;
  readonly consecutiveFailures: number;
  readonly runStartedAt: number | null;
  /** Emails the last successful run found but left for the next one (batch limit). */
  readonly backlog: number;
  /** A connection is kept waiting for the server to announce mail (IMAP IDLE). */
  readonly push: boolean;
}

/**
 * One connector's actor: a FIFO queue of commands handled one at a time, a closed set
 * of states, time from the injected clock. Runs never overlap, so a connector holds at
 * most one connection to its mailbox. STOP and CONFIGURE abort a run in progress at
 * once (through its AbortSignal) and are then handled in order.
 */
export class ConnectorActor {
  #state: ActorState = 'IDLE';
  #connector: FetchConnector;
  readonly #queue: ActorCommand[] = [];
  #draining = false;
  #timer: unknown;
  /** When the run the timer started was due (cleared once the run starts): its lateness. */
  #dueAt: number | null = null;
  #run: AbortController | undefined;
  #runStartedAt: number | null = null;
  #lastSuccessAt: number | null = null;
  #lastError = '';
  #lastErrorAt: number | null = null;
  #backlog = 0;
  #failures = 0;
  #authFailures = 0;
  #idle: Promise<void> = Promise.resolve();
  // `wake`: a kept IMAP connection announced mail (push); runs never overlap, so a wake
  // during a run is dropped — the session remembers it and wakes again when released.
  readonly #memory: RunMemory = { oversize: new Set(), wake: () => this.send({ type: 'POLL' }) };

  constructor(
    connector: FetchConnector,
    private readonly run: ConnectorPoll,
    private readonly log: RunLog,
    private readonly clock: Clock,
    private readonly options: ActorOptions,
    private readonly onCrash: (err: unknown) => void = () => undefined,
    /** Its workspace's runs at once; none: no limit. */
    private readonly slots?: RunSlots,
  ) {
    this.#connector = connector;
  }

  get state(): ActorState {
    return this.#state;
  }

  get connector(): FetchConnector {
    return this.#connector;
  }

  status(): ActorStatus {
    return {
      connectorId: this.#connector.id,
      workspace: this.#connector.workspace,
      revision: this.#connector.revision,
      state: this.#state,
      lastSuccessAt: this.#lastSuccessAt,
      lastError: this.#lastError,
      lastErrorAt: this.#lastErrorAt,
      consecutiveFailures: this.#failures,
      runStartedAt: this.#runStartedAt,
      backlog: this.#backlog,
      push: this.#memory.session !== undefined,
    };
  }

  /** The first run, now or after `delayMs` (paced by the supervisor). */
  start(delayMs = 0): void {
    if (delayMs > 0) this.#schedule(delayMs, 'IDLE');
    else this.send({ type: 'POLL' });
  }

  send(command: ActorCommand): void {
    if (this.#state === 'STOPPED') return;
    if (command.type !== 'POLL') this.#run?.abort(new Error(command.type === 'STOP' ? 'connector stopped' : 'connector reconfigured'));
    this.#queue.push(command);
    if (!this.#draining) this.#idle = this.#drain();
  }

  /** Resolves when the command queue is empty and no run is in progress. */
  settled(): Promise<void> {
    return this.#idle;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      for (let cmd = this.#queue.shift(); cmd; cmd = this.#queue.shift()) {
        try {
          await this.#handle(cmd);
        } catch (err) {
          // A bug, not a mailbox failure: report to the supervisor, which restarts us.
          this.onCrash(err);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  async #handle(cmd: ActorCommand): Promise<void> {
    switch (cmd.type) {
      case 'STOP':
        this.#dropSession();
        this.#clearTimer();
        this.#state = 'STOPPED';
        this.#queue.length = 0;
        return;
      case 'CONFIGURE': {
        const credentialsMayHaveChanged = cmd.connector.revision !== this.#connector.revision;
        this.#connector = cmd.connector;
        // Settings or credentials may differ: the next run opens a fresh connection.
        this.#dropSession();
        if (this.#state === 'AUTH_FAILED' && !credentialsMayHaveChanged) return;
        this.#authFailures = 0;
        this.#schedule(0, 'IDLE');
        return;
      }
      case 'POLL':
        if (this.#state === 'AUTH_FAILED' || this.#state === 'POLLING') return;
        await this.#poll();
        return;
    }
  }

  async #poll(): Promise<void> {
    this.#clearTimer();
    const controller = new AbortController();
    this.#run = controller;
    let release: (() => void) | undefined;
    if (this.slots) {
      this.#state = 'WAITING';
      try {
        release = await this.slots.acquire(this.#connector.workspace, controller.signal);
      } catch {
        // Stopped or reconfigured while waiting: the queued command decides what happens next.
        this.#run = undefined;
        this.#state = 'IDLE';
        return;
      }
    }
    this.#state = 'POLLING';
    const startedAt = this.clock.now();
    if (this.#dueAt !== null) fetcherMetrics.lateness.observe(Math.max(0, startedAt - this.#dueAt) / 1000);
    this.#dueAt = null;
    this.#runStartedAt = startedAt;
    const interval = this.#connector.settings.pollIntervalSeconds * 1000;
    try {
      const r = await this.run(this.#connector, controller.signal, this.#memory);
      this.#lastSuccessAt = this.clock.now();
      this.#observe('ok', startedAt, r);
      if (this.#failures > 0) this.log('INFO', 'RECOVERED', `the run succeeded again after ${this.#failures} failed run(s)`);
      this.#failures = 0;
      this.#authFailures = 0;
      this.#lastError = '';
      // The log says what changed; a run that found nothing writes nothing (the status
      // shows liveness: state and last success).
      if (r.stored + r.duplicates + r.refused + r.skippedOversize > 0) {
        this.log(
          'INFO',
          'RUN_FINISHED',
          `run finished: ${r.stored} stored, ${r.duplicates} already stored, ${r.refused} refused, ${r.skippedOversize} over the size cap, ${r.candidates} new in total${r.more ? ' (the rest come next run)' : ''}`,
        );
      }
      this.#schedule(interval, 'IDLE');
    } catch (err) {
      if (controller.signal.aborted) {
        // Stopped or reconfigured mid-run: the queued command decides what happens next.
        this.#state = 'IDLE';
        return;
      }
      this.#observe(err instanceof MailboxError ? err.failure : 'PROTOCOL_ERROR', startedAt);
      this.#failed(err, interval);
    } finally {
      release?.();
      this.#run = undefined;
      this.#runStartedAt = null;
    }
  }

  /** Counts a finished run (aborted runs are not finished: the next command decides). */
  #observe(outcome: string, startedAt: number, r?: RunSummary): void {
    const protocol = this.#connector.settings.protocol;
    const workspace = workspaceLabel(this.#connector.workspace);
    fetcherMetrics.runs.inc({ workspace, protocol, outcome });
    fetcherMetrics.runSeconds.observe({ protocol }, Math.max(0, this.clock.now() - startedAt) / 1000);
    if (!r) return;
    for (const [result, n] of [['stored', r.stored], ['duplicate', r.duplicates], ['refused', r.refused], ['oversize', r.skippedOversize]] as const) {
      if (n > 0) fetcherMetrics.emails.inc({ workspace, protocol, result }, n);
    }
    this.#backlog = r.more ? Math.max(0, r.candidates - r.stored - r.duplicates - r.refused - r.skippedOversize) : 0;
  }

  #failed(err: unknown, interval: number): void {
    this.#failures++;
    const failure = err instanceof MailboxError ? err.failure : 'PROTOCOL_ERROR';
    this.#lastError = `${failure}: ${(err as Error).message}`;
    this.#lastErrorAt = this.clock.now();
    if (failure === 'AUTH_FAILED') {
      this.#authFailures++;
      if (this.#authFailures >= this.options.maxAuthFailures) {
        this.#clearTimer();
        this.#state = 'AUTH_FAILED';
        this.log('ERROR', 'AUTH_FAILED_PARKED', `login failed ${this.#authFailures} times in a row; polling stops until the connector's settings change or it is re-enabled (${(err as Error).message})`);
        return;
      }
      const delay = Math.min(this.options.maxBackoffMs, Math.max(interval, this.options.authBackoffMs * 2 ** (this.#authFailures - 1)));
      this.log('ERROR', 'AUTH_FAILED', `${(err as Error).message}; next try in ${Math.round(delay / 1000)} s (${this.#authFailures}/${this.options.maxAuthFailures})`);
      this.#schedule(delay, 'BACKOFF');
      return;
    }
    const retryable = !(err instanceof MailboxError) || err.retryable;
    const delay = retryable
      ? Math.min(this.options.maxBackoffMs, Math.max(interval, backoffDelay(this.#failures - 1, { initialMs: interval, maxMs: this.options.maxBackoffMs, factor: 2, jitter: 0.2 })))
      : this.options.maxBackoffMs;
    this.log(failure === 'FETCH_TIMEOUT' || failure === 'CONNECT_TIMEOUT' ? 'WARN' : 'ERROR', failure, (err as Error).message);
    this.#schedule(delay, 'BACKOFF');
  }

  #schedule(ms: number, state: ActorState): void {
    this.#clearTimer();
    this.#state = state;
    const dueAt = this.clock.now() + ms;
    this.#timer = this.clock.setTimer(ms, () => {
      this.#timer = undefined;
      this.#dueAt = dueAt;
      this.send({ type: 'POLL' });
    });
  }

  #dropSession(): void {
    this.#memory.session?.close();
    this.#memory.session = undefined;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
