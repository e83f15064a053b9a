import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { emlDisposition } from './mail-routes';

describe('a downloaded email’s name', () => {
  const storedAt = new Date('2026-12-06T10:00:00Z');

  it('is its day and subject, without path separators or characters a file system refuses, UTF-8 beside ASCII', () => {
    assert.equal(
      emlDisposition({ id: 'x', subject: 'Rechnung 4711: "März"/../Ä?', storedAt }),
      `attachment; filename="2026-12-06 Rechnung 4711 Marz .. A.eml"; filename*=UTF-8''2026-12-06%20Rechnung%204711%20M%C3%A4rz%20..%20%C3%84.eml`,
    );
  });

  it('is its id without a subject, and a long subject is cut', () => {
    assert.equal(emlDisposition({ id: 'id-1', subject: '', storedAt }), `attachment; filename="2026-12-06 id-1.eml"; filename*=UTF-8''2026-12-06%20id-1.eml`);
    assert.ok(/filename="2026-12-06 x{80}\.eml"/.test(emlDisposition({ id: 'i', subject: 'x'.repeat(500), storedAt })));
    // eslint-disable-next-line no-control-regex -- the point is that none is left
    assert.ok(!/[\r\n\u0000]/.test(emlDisposition({ id: 'i', subject: 'a\r\nContent-Type: text/html\u0000', storedAt })), 'no header injection');
  });
});
