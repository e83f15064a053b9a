import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Scope } from '@postbote/auth';
import { ValidationError } from '@postbote/errors';
import type { Gate } from '@postbote/db';
import { AuditEntity, type AuditRow } from './access-entities';

/** Who made a change, as the audit log records it: a caller's description and network address, and the workspace it acted in. */
export interface Actor {
  readonly who: string;
  readonly peer: string;
  /** Where the entry is recorded: the workspace the change was made in, '' for the installation's own. */
  readonly workspace: string;
}

/** Changes the service makes by itself (the first admin token). */
export const SYSTEM: Actor = Object.freeze({ who: 'system', peer: '', workspace: '' });

export type AuditAction =
  | 'CONNECTOR_CREATED'
  | 'CONNECTOR_UPDATED'
  | 'CONNECTOR_DELETED'
  | 'CONNECTION_TESTED'
  | 'FOLDERS_LISTED'
  | 'KEYS_ROTATED'
  | 'TOKEN_CREATED'
  | 'TOKEN_REVOKED'
  | 'CONSOLE_USER_ADDED'
  | 'CONSOLE_USER_REPLACED'
  | 'CONSOLE_USER_REMOVED'
  | 'CONSOLE_SIGNED_IN'
  | 'CONSOLE_SIGNED_OUT'
  | 'WORKSPACE_CREATED'
  | 'WORKSPACE_UPDATED'
  | 'WORKSPACE_SUSPENDED'
  | 'WORKSPACE_RESUMED'
  | 'WORKSPACE_DELETED';

export interface AuditTarget {
  readonly type: 'connector' | 'token' | 'console-user' | 'workspace' | '';
  readonly id: string;
  readonly name: string;
}

const NO_TARGET: AuditTarget = { type: '', id: '', name: '' };

/**
 * The append-only record of who changed what. Entries are written in the transaction
 * of the change they describe, so a change without its entry (or the reverse) cannot
 * commit. `detail` names settings, never values of secrets.
 */
export class AuditLog {
  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
    private readonly now: () => Date,
  ) {}

  /** Adds an entry inside the caller's transaction. */
  async append(tx: EntityManager, actor: Actor, action: AuditAction, target: AuditTarget = NO_TARGET, detail = ''): Promise<void> {
    const row: Omit<AuditRow, 'seq'> = {
      id: randomUUID(),
      workspaceId: actor.workspace,
      at: this.now(),
      actor: actor.who.slice(0, 200),
      peer: actor.peer.slice(0, 100),
      action,
      targetType: target.type,
      targetId: target.id,
      targetName: target.name.slice(0, 100),
      detail: detail.slice(0, 1000),
    };
    await tx.getRepository(AuditEntity).insert(row);
  }

  /** Adds an entry on its own (a change with nothing else to commit, e.g. a connection test). */
  record(actor: Actor, action: AuditAction, target?: AuditTarget, detail?: string): Promise<void> {
    return this.gate(() => this.ds.transaction((tx) => this.append(tx, actor, action, target, detail)));
  }

  /**
   * The entries of the scope's workspace, newest first, with the installation's own when
   * `withInstallation` (an installation admin asking); the page token is the last sequence
   * number seen.
   */
  async list(scope: Scope, withInstallation: boolean, pageSize: number, pageToken: string, targetId: string): Promise<{ entries: AuditRow[]; nextPageToken: string }> {
    const size = Math.min(Math.max(pageSize || 100, 1), 500);
    const before = pageToken ? Number(pageToken) : undefined;
    if (before !== undefined && (!Number.isSafeInteger(before) || before < 1)) throw ValidationError.single('page_token', 'invalid', 'is not a token from a previous page');
    if (targetId.length > 36) throw ValidationError.single('target_id', 'max-length', 'must be a connector or token id');
    const qb = this.ds.getRepository(AuditEntity).createQueryBuilder('a').orderBy('a.seq', 'DESC').take(size + 1);
    if (before !== undefined) qb.andWhere('a.seq < :before', { before });
    if (targetId) qb.andWhere('a.target_id = :targetId', { targetId: targetId.toLowerCase() });
    if (!scope.every) qb.andWhere(withInstallation ? "(a.workspace_id = :w OR a.workspace_id = '')" : 'a.workspace_id = :w', { w: scope.workspace });
    const rows = await this.gate(() => qb.getMany());
    const page = rows.slice(0, size);
    const last = page.at(-1);
    return { entries: page, nextPageToken: rows.length > size && last ? String(last.seq) : '' };
  }
}
