import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { judgePosition, positionTag } from './position-check';

const DB = 'db-this';
const row = (over: Partial<{ eventId: string | undefined; pendingUpTo: number; maxId: number }> = {}) => ({ eventId: 'ev-5', pendingUpTo: 0, maxId: 9, ...over });

describe('judgePosition (is a committed position this database\'s?)', () => {
  it('trusts no position at all', () => {
    assert.deepEqual(judgePosition({ offset: -1, tag: null }, DB, row()), { trust: true });
  });

  it('trusts its own position: same database, same event at that row', () => {
    assert.deepEqual(judgePosition({ offset: 5, tag: positionTag(DB, 'ev-5') }, DB, row()), { trust: true });
  });

  it('refuses, loudly, a position written for another database (a new database behind the namespace)', () => {
    const v = judgePosition({ offset: 5, tag: positionTag('db-other', 'ev-5') }, DB, row({ eventId: undefined, maxId: 3, pendingUpTo: 3 }));
    assert.equal(v.trust, false);
    assert.ok(!v.trust && v.loud && /written for database db-other/.test(v.why));
  });

  it('refuses, loudly, an older copy of this database: another event under that row id', () => {
    const v = judgePosition({ offset: 5, tag: positionTag(DB, 'ev-5') }, DB, row({ eventId: 'ev-new' }));
    assert.ok(!v.trust && v.loud && /older copy/.test(v.why));
  });

  it('refuses, loudly, an older copy whose rows up to the position are unpublished', () => {
    const v = judgePosition({ offset: 5, tag: positionTag(DB, 'ev-5') }, DB, row({ eventId: undefined, pendingUpTo: 2 }));
    assert.ok(!v.trust && v.loud);
  });

  it('trusts a position whose row retention purged, when later rows exist and nothing up to it is pending', () => {
    assert.deepEqual(judgePosition({ offset: 5, tag: positionTag(DB, 'ev-5') }, DB, row({ eventId: undefined, maxId: 12 })), { trust: true });
  });

  it('falls back quietly when nothing confirms a purged position (the outcome is the same: pending rows decide)', () => {
    const v = judgePosition({ offset: 5, tag: positionTag(DB, 'ev-5') }, DB, row({ eventId: undefined, maxId: 4 }));
    assert.ok(!v.trust && !v.loud);
  });

  it('trusts, with a note, a position committed by a version that did not tag positions', () => {
    const v = judgePosition({ offset: 5, tag: null }, DB, row());
    assert.ok(v.trust && /older version/.test(v.note ?? ''));
  });
});
