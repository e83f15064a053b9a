import type { DataSource } from 'typeorm';
import type { Scope } from '@postbote/auth';
import type { LogLevelName } from '@postbote/connector-model';
import type { Gate } from '@postbote/db';
import { ValidationError } from '@postbote/errors';
import { LogEntity, type LogRow } from './entities';

/** Levels as stored (ordered, so "at least" is a comparison). */
export const LOG_LEVELS = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 } as const satisfies { readonly [L in LogLevelName]: number };
export type ConnectorLogLevel = LogLevelName;

export interface LogEntryInput {
  /** The connector's workspace (storage's copy of the registry, never the writer's say). */
  readonly workspace: string;
  readonly connectorId: string;
  readonly time: Date;
  readonly level: ConnectorLogLevel;
  /** Stable machine-readable code, e.g. RUN_FINISHED, CONNECT_TIMEOUT, PURGED. */
  readonly code: string;
  readonly message: string;
}

export interface LogEntry extends LogEntryInput {
  readonly id: number;
}

const MESSAGE_MAX = 4000;
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** The per-connector log ("Protokoll") operators read to see what a connector did. */
export class ConnectorLog {
  constructor(
    private readonly ds: DataSource,
    private readonly gate: Gate,
  ) {}

  async append(entries: readonly LogEntryInput[]): Promise<void> {
    if (entries.length === 0) return;
    entries.forEach((e, i) => {
      if (!e.connectorId) throw ValidationError.single(`entries[${i}].connector_id`, 'required', 'must not be empty');
      if (!CODE.test(e.code)) throw ValidationError.single(`entries[${i}].code`, 'code', 'must be UPPER_SNAKE_CASE, at most 64 characters');
    });
    const rows = entries.map((e) => ({
      workspaceId: e.workspace,
      connectorId: e.connectorId,
      time: e.time,
      level: LOG_LEVELS[e.level],
      code: e.code,
      message: e.message.length > MESSAGE_MAX ? `${e.message.slice(0, MESSAGE_MAX - 1)}…` : e.message,
    }));
    await this.gate(() => this.ds.getRepository(LogEntity).insert(rows));
  }

  /** Newest first, at or above `minLevel`, in the scope's workspace; the token is the last id seen. */
  async list(scope: Scope, connectorId: string, minLevel: ConnectorLogLevel, pageSize: number, pageToken: string): Promise<{ entries: LogEntry[]; nextPageToken: string }> {
    const size = Math.min(Math.max(pageSize || 100, 1), 1000);
    const qb = this.ds
      .getRepository(LogEntity)
      .createQueryBuilder('l')
      .where('l.connector_id = :c', { c: connectorId })
      .andWhere('l.level >= :lvl', { lvl: LOG_LEVELS[minLevel] })
      .andWhere(scope.every ? '1 = 1' : 'l.workspace_id = :w', { w: scope.every ? '' : scope.workspace })
      .orderBy('l.id', 'DESC')
      .take(size + 1);
    if (pageToken) {
      if (!/^\d+$/.test(pageToken)) throw ValidationError.single('page_token', 'invalid', 'is not a token from a previous page');
      qb.andWhere('l.id < :before', { before: Number(pageToken) });
    }
    const rows = await this.gate(() => qb.getMany());
    const page = rows.slice(0, size);
    const last = page.at(-1);
    return { entries: page.map(toEntry), nextPageToken: rows.length > size && last ? String(last.id) : '' };
  }
}

function toEntry(r: LogRow): LogEntry {
  const level = (Object.keys(LOG_LEVELS) as ConnectorLogLevel[]).find((k) => LOG_LEVELS[k] === r.level) ?? 'INFO';
  return { id: r.id, workspace: r.workspaceId, connectorId: r.connectorId, time: new Date(r.time), level, code: r.code, message: r.message };
}
