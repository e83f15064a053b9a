import type { DataSource } from 'typeorm';
import { DEFAULT_WORKSPACE, WORKSPACE_ID_RULE, isWorkspaceId, type Scope } from '@postbote/auth';
import type { Gate } from '@postbote/db';
import { AlreadyExistsError, InternalError, NotFoundError, PreconditionError, ValidationError, checkLabel, type Violation } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import { WorkspaceState as ProtoState, type Workspace } from '@postbote/proto';
import type { Actor, AuditLog } from './audit-log';
import type { WorkspaceEventPublisher } from './connector-events';
import { WorkspaceEntity, type WorkspaceRow } from './workspace-entity';

/** What one workspace may use; 0 means no limit (see proto WorkspaceQuotas). */
export interface Quotas {
  readonly maxConnectors: number;
  readonly minPollIntervalSeconds: number;
  /** Runs at once per fetcher instance. */
  readonly maxConcurrentRuns: number;
  /** TestConnection and ListFolders calls per minute. */
  readonly connectionTestsPerMinute: number;
  readonly maxStoredBytes: number;
}

export const QUOTA_KEYS = ['maxConnectors', 'minPollIntervalSeconds', 'maxConcurrentRuns', 'connectionTestsPerMinute', 'maxStoredBytes'] as const satisfies ReadonlyArray<keyof Quotas>;

/** Each quota's largest value and its API name (for errors). */
const QUOTA_RULES: Readonly<Record<keyof Quotas, { readonly max: number; readonly field: string }>> = {
  maxConnectors: { max: 1_000_000, field: 'quotas.max_connectors' },
  minPollIntervalSeconds: { max: 86_400, field: 'quotas.min_poll_interval_seconds' },
  maxConcurrentRuns: { max: 100_000, field: 'quotas.max_concurrent_runs' },
  connectionTestsPerMinute: { max: 100_000, field: 'quotas.connection_tests_per_minute' },
  maxStoredBytes: { max: Number.MAX_SAFE_INTEGER, field: 'quotas.max_stored_bytes' },
};

/**
 * A new workspace's quotas unless its creator says otherwise: no limits but on connection
 * tests, which log in to mail servers the customer names (the installation's egress address
 * must not become anyone's login hammer). The vendor sets the rest per contract.
 */
export const NEW_WORKSPACE_QUOTAS: Quotas = Object.freeze({ maxConnectors: 0, minPollIntervalSeconds: 0, maxConcurrentRuns: 0, connectionTestsPerMinute: 30, maxStoredBytes: 0 });

export type WorkspaceState = 'ACTIVE' | 'SUSPENDED';

export interface WorkspaceRecord {
  readonly id: string;
  readonly displayName: string;
  readonly state: WorkspaceState;
  readonly suspendedReason: string | null;
  readonly suspendedAt: Date | null;
  readonly quotas: Quotas;
  readonly createdAt: Date;
  readonly createdBy: string;
}

export interface WorkspacesDeps {
  readonly dataSource: DataSource;
  readonly gate: Gate;
  readonly audit: AuditLog;
  /** Every change goes to the workspaces topic after its commit (fetchers and storage follow it). */
  readonly events: WorkspaceEventPublisher;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** The installation's workspaces: created, changed, suspended and resumed by installation admins. */
export class Workspaces {
  constructor(private readonly deps: WorkspacesDeps) {}

  async create(input: { id: string; displayName: string; quotas: Partial<Quotas> }, actor: Actor): Promise<WorkspaceRecord> {
    const id = input.id.trim();
    const violations: Violation[] = [];
    if (!isWorkspaceId(id)) violations.push({ field: 'id', rule: 'workspace-id', message: `must be ${WORKSPACE_ID_RULE}` });
    const name = checkLabel('display_name', input.displayName, 1, 100);
    if (name) violations.push(...name.violations);
    const quotas = checkQuotas({ ...NEW_WORKSPACE_QUOTAS, ...defined(input.quotas) }, violations);
    if (violations.length) throw new ValidationError(violations);
    const now = this.deps.now();
    const row: WorkspaceRow = { id, displayName: input.displayName.trim(), state: 'ACTIVE', suspendedReason: null, suspendedAt: null, quotasJson: JSON.stringify(quotas), createdAt: now, createdBy: actor.who.slice(0, 200), updatedAt: now };
    await this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        const repo = tx.getRepository(WorkspaceEntity);
        if (await repo.findOneBy({ id })) throw new AlreadyExistsError(`a workspace "${id}" already exists`, 'id');
        await repo.insert(row);
        // Recorded in the new workspace: its admins see who made it and with which limits.
        await this.deps.audit.append(tx, { ...actor, workspace: id }, 'WORKSPACE_CREATED', { type: 'workspace', id, name: row.displayName }, describeQuotas(quotas));
      }),
    );
    this.deps.logger.info({ workspace: id, by: actor.who }, 'workspace created');
    const created = recordOf(row);
    await this.deps.events.upserted(created);
    return created;
  }

  /** The workspaces with these ids (all of them for `every`), by id. */
  async list(ids: readonly string[] | 'every'): Promise<WorkspaceRecord[]> {
    if (ids !== 'every' && ids.length === 0) return [];
    const qb = this.deps.dataSource.getRepository(WorkspaceEntity).createQueryBuilder('w').orderBy('w.id', 'ASC');
    if (ids !== 'every') qb.where('w.id IN (:...ids)', { ids: [...ids] });
    return (await this.deps.gate(() => qb.getMany())).map(recordOf);
  }

  async get(id: string): Promise<WorkspaceRecord> {
    const row = isWorkspaceId(id) ? await this.deps.gate(() => this.deps.dataSource.getRepository(WorkspaceEntity).findOneBy({ id })) : null;
    if (!row) throw new NotFoundError(`no workspace "${id}"`);
    return recordOf(row);
  }

  /**
   * The workspace a change is made in, when it may change: it exists and is not suspended.
   * An installation admin may name any workspace, so "exists" is checked here, not by the gate.
   */
  async forChange(scope: Scope): Promise<WorkspaceRecord> {
    if (scope.every) throw new InternalError('a change must be made in one workspace');
    const w = await this.get(scope.workspace);
    if (w.state === 'SUSPENDED') throw new PreconditionError(`workspace ${w.id} is suspended (${w.suspendedReason ?? 'no reason given'}); nothing in it can change until an installation admin resumes it`, { reason: 'WORKSPACE_SUSPENDED' });
    return w;
  }

  async update(id: string, patch: { displayName?: string | undefined; quotas: Partial<Quotas> }, actor: Actor): Promise<WorkspaceRecord> {
    const violations: Violation[] = [];
    if (patch.displayName !== undefined) {
      const name = checkLabel('display_name', patch.displayName, 1, 100);
      if (name) violations.push(...name.violations);
    }
    return this.#change(id, actor, 'WORKSPACE_UPDATED', (row, before) => {
      const quotas = checkQuotas({ ...before.quotas, ...defined(patch.quotas) }, violations);
      if (violations.length) throw new ValidationError(violations);
      const changed = [...(patch.displayName !== undefined && patch.displayName.trim() !== row.displayName ? ['display name'] : []), ...QUOTA_KEYS.filter((k) => quotas[k] !== before.quotas[k])];
      if (patch.displayName !== undefined) row.displayName = patch.displayName.trim();
      row.quotasJson = JSON.stringify(quotas);
      return changed.length ? `changed: ${changed.join(', ')}; ${describeQuotas(quotas)}` : 'no change';
    });
  }

  async suspend(id: string, reason: string, actor: Actor): Promise<WorkspaceRecord> {
    const bad = checkLabel('reason', reason, 1, 500, 'line');
    if (bad) throw bad;
    return this.#change(id, actor, 'WORKSPACE_SUSPENDED', (row) => {
      row.state = 'SUSPENDED';
      row.suspendedReason = reason.trim();
      row.suspendedAt = this.deps.now();
      return reason.trim();
    });
  }

  async resume(id: string, actor: Actor): Promise<WorkspaceRecord> {
    return this.#change(id, actor, 'WORKSPACE_RESUMED', (row) => {
      row.state = 'ACTIVE';
      row.suspendedReason = null;
      row.suspendedAt = null;
      return '';
    });
  }

  async #change(id: string, actor: Actor, action: 'WORKSPACE_UPDATED' | 'WORKSPACE_SUSPENDED' | 'WORKSPACE_RESUMED', apply: (row: WorkspaceRow, before: WorkspaceRecord) => string): Promise<WorkspaceRecord> {
    const before = await this.get(id);
    const changed = await this.deps.gate(() =>
      this.deps.dataSource.transaction(async (tx) => {
        const repo = tx.getRepository(WorkspaceEntity);
        const row = await repo.findOneBy({ id: before.id });
        if (!row) throw new NotFoundError(`no workspace "${id}"`);
        const detail = apply(row, before);
        row.updatedAt = this.deps.now();
        await repo.save(row);
        await this.deps.audit.append(tx, { ...actor, workspace: row.id }, action, { type: 'workspace', id: row.id, name: row.displayName }, detail);
        this.deps.logger.info({ workspace: row.id, action, by: actor.who }, 'workspace changed');
        return recordOf(row);
      }),
    );
    await this.deps.events.upserted(changed);
    return changed;
  }
}

/** Whether a workspace may be deleted: `default` holds what existed before workspaces, and the Quick start's data. */
export function deletable(id: string): boolean {
  return id !== DEFAULT_WORKSPACE;
}

function recordOf(row: WorkspaceRow): WorkspaceRecord {
  return Object.freeze({
    id: row.id,
    displayName: row.displayName,
    state: row.state === 'SUSPENDED' ? 'SUSPENDED' : 'ACTIVE',
    suspendedReason: row.suspendedReason,
    suspendedAt: row.suspendedAt ? new Date(row.suspendedAt) : null,
    quotas: Object.freeze({ ...NEW_WORKSPACE_QUOTAS, ...(JSON.parse(row.quotasJson) as Partial<Quotas>) }),
    createdAt: new Date(row.createdAt),
    createdBy: row.createdBy,
  });
}

function defined(q: Partial<Quotas>): Partial<Quotas> {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined)) as Partial<Quotas>;
}

function checkQuotas(q: Quotas, violations: Violation[]): Quotas {
  for (const key of QUOTA_KEYS) {
    const v = q[key];
    const rule = QUOTA_RULES[key];
    if (!Number.isSafeInteger(v) || v < 0 || v > rule.max) violations.push({ field: rule.field, rule: 'range', message: `must be 0 (no limit) to ${rule.max}` });
  }
  return q;
}

function describeQuotas(q: Quotas): string {
  const limit = (v: number, unit = '') => (v === 0 ? 'no limit' : `${v}${unit}`);
  return `quotas: connectors ${limit(q.maxConnectors)}, shortest interval ${limit(q.minPollIntervalSeconds, ' s')}, runs at once ${limit(q.maxConcurrentRuns)}, connection tests ${limit(q.connectionTestsPerMinute, '/min')}, stored ${limit(q.maxStoredBytes, ' bytes')}`;
}

/** A workspace as the API and the workspaces topic show it. */
export function workspaceToProto(w: WorkspaceRecord, connectors = 0): Workspace {
  return {
    id: w.id,
    displayName: w.displayName,
    state: w.state === 'SUSPENDED' ? ProtoState.SUSPENDED : ProtoState.ACTIVE,
    suspendedReason: w.suspendedReason ?? '',
    suspendedAt: w.suspendedAt ?? undefined,
    createdAt: w.createdAt,
    createdBy: w.createdBy,
    quotas: { ...w.quotas },
    connectors,
  };
}
