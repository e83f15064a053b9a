import { backoffDelay } from '@postbote/backoff';
import type { RunLog } from '@postbote/mailbox';
import type { Logger } from '@postbote/logging';
import type { Clock } from '@postbote/backoff';
import { ConnectorActor, type ActorOptions, type ActorStatus, type FetchConnector, type ConnectorPoll } from './connector-actor';
import { RunSlots } from './run-slots';

/** What a workspace lets its connectors do (from the workspaces topic; unknown: everything). */
export interface WorkspacePolicy {
  readonly suspended: boolean;
  /** Runs at once on this fetcher; 0: no limit. */
  readonly maxConcurrentRuns: number;
}

export const UNRESTRICTED: WorkspacePolicy = Object.freeze({ suspended: false, maxConcurrentRuns: 0 });

export interface SupervisorOptions extends ActorOptions {
  /** A connector without a successful poll for this many intervals is reported and rebuilt. */
  readonly watchdogIntervals: number;
  /** How often the watchdog looks. */
  readonly watchdogEveryMs: number;
  /** First runs started per second for connectors taken on (FETCHER_START_RATE). */
  readonly startRate: number;
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
 * Starts, reconfigures and stops one actor per enabled connector of an active workspace (a
 * suspended workspace's connectors are remembered but not run, and start again when it is
 * resumed); runs take turns within their workspace's quota of runs at once. A crashing actor is
 * replaced after a jittered, growing delay, without touching the others. The watchdog
 * catches the silent death other IMAP triggers suffer: a connector whose run hangs, or that
 * has not succeeded for `watchdogIntervals` intervals — since its last success or, if it
 * never had one, since it started — is reported to its log and its actor (and so its
 * session) rebuilt, once per such episode.
 *
 * Connectors taken on (at start-up, from a rebalance, a workspace resumed, a new connector)
 * have their first runs paced at `startRate` per second (a second's worth at once): a fetcher
 * that takes on thousands at once logs into their mailboxes over seconds, not in one burst
 * (decision 0031). Replaced and rebuilt actors are not paced: their own backoff already spaces
 * them.
 */
export class Supervisor {
  readonly #children = new Map<string, Child>();
  /** Every enabled connector this instance owns, running or held by its workspace's suspension. */
  readonly #desired = new Map<string, { connector: FetchConnector; partition: number }>();
  readonly #policies = new Map<string, WorkspacePolicy>();
  readonly #slots = new RunSlots((w) => this.policy(w).maxConcurrentRuns);
  #watchdog: unknown;
  /** When the next paced first run may start. */
  #nextStartAt = 0;

  constructor(
    private readonly run: ConnectorPoll,
    private readonly logFor: (connectorId: string) => RunLog,
    private readonly clock: Clock,
    private readonly options: SupervisorOptions,
    private readonly logger: Logger,
  ) {}

  policy(workspace: string): WorkspacePolicy {
    return this.#policies.get(workspace) ?? UNRESTRICTED;
  }

  /** A workspace's state or quotas changed (null: deleted): stop or start its connectors, admit waiting runs. */
  workspaceChanged(workspace: string, policy: WorkspacePolicy | null): void {
    const before = this.policy(workspace);
    if (policy) this.#policies.set(workspace, policy);
    else this.#policies.delete(workspace);
    const now = this.policy(workspace);
    this.#slots.changed(workspace);
    if (before.suspended === now.suspended) return;
    for (const [id, d] of this.#desired) {
      if (d.connector.workspace !== workspace) continue;
      if (now.suspended) {
        if (this.#stopChild(id)) this.logFor(id)('WARN', 'WORKSPACE_SUSPENDED', `workspace ${workspace} is suspended: this connector polls nothing until it is resumed`);
      } else if (!this.#children.has(id)) {
        this.logFor(id)('INFO', 'WORKSPACE_RESUMED', `workspace ${workspace} is active again: polling resumes`);
        this.#spawn(d.connector, 0, d.partition, false);
      }
    }
  }

  /** Runs of a workspace in progress and waiting for a slot. */
  runs(workspace: string): { running: number; waiting: number } {
    return this.#slots.usage(workspace);
  }

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
      this.#desired.delete(connectorId);
      if (this.#stopChild(connectorId)) this.logger.info({ connectorId }, 'connector actor stopped');
      return;
    }
    this.#desired.set(connectorId, { connector, partition });
    if (this.policy(connector.workspace).suspended) {
      this.#stopChild(connectorId);
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
    for (const [id, d] of this.#desired) if (lost.has(d.partition)) this.#desired.delete(id);
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

  #stopChild(connectorId: string): boolean {
    const child = this.#children.get(connectorId);
    if (!child) return false;
    child.actor.send({ type: 'STOP' });
    this.#children.delete(connectorId);
    return true;
  }

  #spawn(connector: FetchConnector, restarts: number, partition: number, staleReported: boolean): void {
    const child: Child = { actor: undefined as unknown as ConnectorActor, partition, restarts, startedAt: this.clock.now(), staleReported };
    child.actor = new ConnectorActor(connector, this.run, this.logFor(connector.id), this.clock, this.options, (err) => this.#crashed(connector.id, child, err), this.#slots);
    this.#children.set(connector.id, child);
    child.actor.start(restarts === 0 ? this.#pacedStart() : 0);
    this.logger.info({ connectorId: connector.id, restarts }, 'connector actor started');
  }

  /**
   * Delay of a first run: a second's worth (`startRate`) may start at once, the rest one slot of
   * 1/startRate s after another (a cell-rate limiter: #nextStartAt is when the next slot is free).
   */
  #pacedStart(): number {
    const now = this.clock.now();
    const slot = 1000 / this.options.startRate;
    this.#nextStartAt = Math.max(this.#nextStartAt, now);
    const delay = Math.max(0, this.#nextStartAt - now - (1000 - slot));
    this.#nextStartAt += slot;
    return delay;
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
      // A connector waiting for its workspace's run slot is held by its quota, not broken.
      const stale = s.state !== 'AUTH_FAILED' && s.state !== 'POLLING' && s.state !== 'WAITING' && now - since > this.options.watchdogIntervals * Math.max(interval, 1);
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
