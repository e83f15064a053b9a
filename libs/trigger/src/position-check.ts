/** The position a sink holds: the last outbox id it published, and the tag it was committed with. */
export interface HeldPosition {
  readonly offset: number;
  /** `<database id>:<event id of row offset>`; null when none (nothing committed, or an older version). */
  readonly tag: string | null;
}

/** What this database says about outbox row `offset` (see OutboxStore.around). */
export interface RowFacts {
  readonly eventId: string | undefined;
  readonly pendingUpTo: number;
  readonly maxId: number;
}

export type Verdict = { readonly trust: true; readonly note?: string } | { readonly trust: false; readonly loud: boolean; readonly why: string };

export const positionTag = (databaseId: string, eventId: string) => `${databaseId}:${eventId}`;

/**
 * Whether a committed position belongs to this database. "Published up to row N" is only
 * true of the database that wrote rows 1..N: a new database behind the same namespace, or
 * an older copy restored from a backup, has other rows under the same ids, and trusting
 * the position would mark them published without sending them. So the position carries
 * the database's identity and row N's event id, and is trusted only when they match here
 * (or when row N was purged by retention and nothing up to it is unpublished).
 */
export function judgePosition(held: HeldPosition, databaseId: string, row: RowFacts): Verdict {
  if (held.offset < 0) return { trust: true };
  if (held.tag === null) return { trust: true, note: `position ${held.offset} carries no database identity (committed by an older version); trusted once` };
  const sep = held.tag.indexOf(':');
  const [dbId, eventId] = sep < 0 ? [held.tag, ''] : [held.tag.slice(0, sep), held.tag.slice(sep + 1)];
  if (dbId !== databaseId) return { trust: false, loud: true, why: `the committed position (outbox row ${held.offset}) was written for database ${dbId}, not this one (${databaseId})` };
  if (row.eventId !== undefined) {
    if (row.eventId === eventId) return { trust: true };
    return { trust: false, loud: true, why: `outbox row ${held.offset} here is another event than the one published under that position: this is an older copy of the database (restored from a backup?)` };
  }
  if (row.pendingUpTo > 0) return { trust: false, loud: true, why: `${row.pendingUpTo} row(s) up to the committed position (outbox row ${held.offset}) are unpublished here: this is an older copy of the database (restored from a backup?)` };
  if (row.maxId > held.offset) return { trust: true };
  return { trust: false, loud: false, why: `outbox row ${held.offset} is no longer in the database (purged) and nothing confirms the position` };
}
