import { backoffDelay } from '@postbote/backoff';
import type { RunLog } from '@postbote/mailbox';
import type { Logger } from '@postbote/logging';
import type { Clock } from './clock';
import { ConnectorActor, type ActorOptions, type ActorStatus, type FetchConnector, type ConnectorPoll } from './connector-actor';

export interface SupervisorOptions extends ActorOptions {
  /** A connector without a successful poll for this many intervals is reported and rebuilt. */
  readonly watchdogIntervals: number;
  /** How often the watchdog looks. */
  readonly watchdogEveryMs: number;
}

interface Child {
  actor: ConnectorActor;
  /** Partition of the connectors topic this connector's record lives in. */
  partition: number;
  restarts: number;
  /** When this actor started: the watchdog measures from here until a first success. */
  startedAt: number;
  /** This stale episode was reported (and the actor rebuilt); cleared by a success. */
  staleReported: boolean;
}

/**
 * Starts, reconfigures and stops one actor per enabled connector. A crashing actor is
 * replaced after a jittered, growing delay, without touching the others. The watchdog
 * catches the silent death other IMAP triggers suffer: a connector whose run hangs, or that
 * has not succeeded for `watchdogIntervals` intervals — since its last success or, if it
 * never had one, since it started — is reported to its log and its actor (and so its
 * session) rebuilt, once per such episode.
 */
export class Supervisor {
  readonly #children = new Map<string, Child>();
  #watchdog: unknown;

  constructor(
    private readonly run: ConnectorPoll,
    private readonly logFor: (connectorId: string) => RunLog,
    private readonly clock: Clock,
    private readonly options: SupervisorOptions,
    private readonly logger: Logger,
  ) {}

  start(): void {
    const tick = () => {
      this.#checkWatchdog();
      this.#watchdog = this.clock.setTimer(this.options.watchdogEveryMs, tick);
    };
    this.#watchdog = this.clock.setTimer(this.options.watchdogEveryMs, tick);
  }

  /** Desired state for a connector: run it (enabled) or not (disabled/deleted: null). */
  apply(connectorId: string, connector: FetchConnector | null, partition = 0): void {
    const child = this.#children.get(connectorId);
    if (!connector || !connector.settings.enabled) {
      if (child) {
        child.actor.send({ type: 'STOP' });
        this.#children.delete(connectorId);
        this.logger.info({ connectorId }, 'connector actor stopped');
      }
      return;
    }
    if (child) {
      if (child.actor.connector.revision !== connector.revision) child.actor.send({ type: 'CONFIGURE', connector });
      return;
    }
    this.#spawn(connector, 0, partition, false);
  }

  /**
   * This instance no longer owns these partitions (a rebalance gave them to another
   * fetcher, or it is shutting down): stop their actors. A run in progress is aborted;
   * whatever it stored stays stored, and nothing unstored was post-processed.
   */
  release(partitions: readonly number[]): number {
    const lost = new Set(partitions);
    let stopped = 0;
    for (const [id, child] of this.#children) {
      if (!lost.has(child.partition)) continue;
      child.actor.send({ type: 'STOP' });
      this.#children.delete(id);
      stopped++;
    }
    return stopped;
  }

  statuses(): ActorStatus[] {
    return [...this.#children.values()].map((c) => c.actor.status());
  }

  actor(connectorId: string): ConnectorActor | undefined {
    return this.#children.get(connectorId)?.actor;
  }

  async stop(): Promise<void> {
    if (this.#watchdog !== undefined) this.clock.clearTimer(this.#watchdog);
    const actors = [...this.#children.values()].map((c) => c.actor);
    this.#children.clear();
    for (const a of actors) a.send({ type: 'STOP' });
    await Promise.all(actors.map((a) => a.settled()));
  }

  #spawn(connector: FetchConnector, restarts: number, partition: number, staleReported: boolean): void {
    const child: Child = { actor: undefined as unknown as ConnectorActor, partition, restarts, startedAt: this.clock.now(), staleReported };
    child.actor = new ConnectorActor(connector, this.run, this.logFor(connector.id), this.clock, this.options, (err) => this.#crashed(connector.id, child, err));
    this.#children.set(connector.id, child);
    child.actor.start();
    this.logger.info({ connectorId: connector.id, restarts }, 'connector actor started');
  }

  #crashed(connectorId: string, child: Child, err: unknown): void {
    if (this.#children.get(connectorId) !== child) return;
    const delay = backoffDelay(child.restarts, { initialMs: 1_000, maxMs: 5 * 60_000, factor: 2, jitter: 0.5 });
    this.logger.error({ connectorId, err, restartInMs: delay }, 'connector actor crashed; restarting');
    const connector = child.actor.connector;
    child.actor.send({ type: 'STOP' });
    this.clock.setTimer(delay, () => {
      if (this.#children.get(connectorId) === child) this.#spawn(connector, child.restarts + 1, child.partition, child.staleReported);
    });
  }

  #checkWatchdog(): void {
    const now = this.clock.now();
    for (const [id, child] of this.#children) {
      const s = child.actor.status();
      const c = child.actor.connector.settings;
      const interval = c.pollIntervalSeconds * 1000;
      // A run cannot legitimately take longer than both timeouts plus slack.
      const hung = s.state === 'POLLING' && s.runStartedAt !== null && now - s.runStartedAt > c.connectTimeoutMs + c.fetchTimeoutMs + 60_000;
      const since = s.lastSuccessAt ?? child.startedAt;
      // A parked connector (refused logins) stays parked: rebuilding it would log in again.
      // A run in progress is judged by `hung` (a long drain may legitimately take a while).
      const stale = s.state !== 'AUTH_FAILED' && s.state !== 'POLLING' && now - since > this.options.watchdogIntervals * Math.max(interval, 1);
      if (s.lastSuccessAt !== null && s.lastSuccessAt >= child.startedAt) child.staleReported = false;
      if (hung) {
        this.logFor(id)('ERROR', 'WATCHDOG_RESTART', `run hung for ${Math.round((now - (s.runStartedAt ?? now)) / 1000)} s; session torn down and rebuilt`);
        this.#rebuild(id, child);
      } else if (stale && !child.staleReported) {
        const what = s.lastSuccessAt === null ? `no successful poll since the connector started ${Math.round((now - since) / 1000)} s ago` : `no successful poll for ${Math.round((now - since) / 1000)} s`;
        this.logFor(id)('WARN', 'WATCHDOG_STALE', `${what} (${this.options.watchdogIntervals} intervals); last error: ${s.lastError || 'none'}; session torn down and rebuilt`);
        child.staleReported = true;
        this.#rebuild(id, child);
      }
    }
  }

  /** A fresh actor (fresh session and memory) for the same connector. */
  #rebuild(id: string, child: Child): void {
    child.actor.send({ type: 'STOP' });
    this.#children.delete(id);
    this.#spawn(child.actor.connector, child.restarts + 1, child.partition, child.staleReported);
  }
}
