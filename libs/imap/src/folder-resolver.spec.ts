import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MailboxError } from '@postbote/mailbox';
import { resolveFolder, toSlashPath } from './folder-resolver';

// Server layouts Dovecot on this machine does not show: "." delimiters and an "INBOX."
// personal namespace (Courier, Cyrus-style), next to Dovecot's "/".

describe('resolveFolder', () => {
  const slash = [{ path: 'INBOX', delimiter: '/' }, { path: 'INBOX/Incidents', delimiter: '/' }, { path: 'Archive/2026', delimiter: '/' }];
  const dotted = [{ path: 'INBOX', delimiter: '.' }, { path: 'INBOX.Incidents', delimiter: '.' }, { path: 'INBOX.Archive.2026', delimiter: '.' }];

  it('maps "/" notation onto the server delimiter', () => {
    assert.equal(resolveFolder('Inbox/Incidents', slash, '').path, 'INBOX/Incidents');
    assert.equal(resolveFolder('Inbox/Incidents', dotted, 'INBOX.').path, 'INBOX.Incidents');
    assert.equal(resolveFolder('Archive/2026', slash, '').path, 'Archive/2026');
  });

  it('accepts paths with or without the personal namespace prefix', () => {
    assert.equal(resolveFolder('Archive/2026', dotted, 'INBOX.').path, 'INBOX.Archive.2026');
    assert.equal(resolveFolder('INBOX/Archive/2026', dotted, 'INBOX.').path, 'INBOX.Archive.2026');
  });

  it('treats INBOX case-insensitively but other names exactly', () => {
    assert.equal(resolveFolder('inbox', dotted, 'INBOX.').path, 'INBOX');
    assert.throws(() => resolveFolder('archive/2026', slash, ''), MailboxError);
  });

  it('lists the existing folders in "/" notation when one is missing', () => {
    assert.throws(() => resolveFolder('Nope', dotted, 'INBOX.'), /does not exist; the mailbox has: INBOX, INBOX\/Archive\/2026, INBOX\/Incidents/);
    assert.equal(toSlashPath({ path: 'INBOX.Archive.2026', delimiter: '.' }), 'INBOX/Archive/2026');
  });
});
