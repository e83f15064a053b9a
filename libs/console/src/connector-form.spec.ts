import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { SECRET_KEYS, SETTING_KEYS } from '@postbote/connector-model';
import { FORM_GROUPS, errorsByField, specFromForm } from './connector-form';
import { viewerFor } from './i18n';

describe('console connector form', () => {
  it('places every setting and secret of the catalogue in exactly one group', () => {
    const placed = FORM_GROUPS.flatMap((g) => g.keys);
    assert.deepEqual([...placed].sort(), [...SETTING_KEYS, ...SECRET_KEYS].sort());
    assert.equal(new Set(placed).size, placed.length);
  });

  it('takes a form as the catalogue says: numbers, checkboxes, secrets kept when empty, only what applies', () => {
    const body = { name: ' Inbox ', port: '993', poll_interval_seconds: '6O', push: 'on', password: '', oauth_client_id: 'ignored', folder: 'INBOX', auth_type: 'PASSWORD' };
    const imap = specFromForm(body, 'IMAP', true);
    assert.equal(imap.name, 'Inbox');
    assert.equal(imap.port, 993);
    assert.ok(Number.isNaN(imap.pollIntervalSeconds), 'not a number: the validator names the field');
    assert.equal(imap.push, true);
    assert.equal(imap.reprocess, false, 'an unchecked box is false');
    assert.equal(imap.password, undefined, 'an empty secret is not given');
    assert.equal(imap.oauthClientId, undefined, 'OAuth fields only with OAUTH2');
    const pop3 = specFromForm(body, 'POP3', true);
    assert.equal(pop3.folder, undefined, 'IMAP fields not on a POP3 connector');
    assert.equal(pop3.push, undefined);
    assert.equal(specFromForm({ ...body, password: 'pw' }, 'IMAP', false).password?.reveal(), 'pw');
  });

  it('maps violations to their form fields; others stay general', () => {
    const m = errorsByField(viewerFor('en'), [
      { field: 'spec.port', rule: 'range', message: 'too big' },
      { field: 'spec.port', rule: 'x', message: 'again' },
      { field: 'request', rule: 'invalid', message: 'odd' },
    ]);
    assert.deepEqual(m.get('port'), ['must be a whole number from 1 to 65,535', 'again']);
    assert.deepEqual(m.get(''), ['request: odd']);
  });
});
