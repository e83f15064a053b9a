import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Secret } from '@postbote/crypto';
import { PermissionDeniedError, ValidationError } from '@postbote/errors';
import { defaultPort } from './defaults';
import { imapPart, type ConnectorSpecInput } from './settings';
import { resolveCreate, resolveUpdate } from './validate';

const imap: ConnectorSpecInput = {
  name: 'support',
  protocol: 'IMAP',
  host: 'mail.example.com',
  username: 'support@example.com',
  password: new Secret('s3cret!'),
  workflowId: 'wf-support',
};
const pop3: ConnectorSpecInput = { ...imap, name: 'pop', protocol: 'POP3' };

function violation(input: ConnectorSpecInput, field: string, rule: string, base?: Parameters<typeof resolveUpdate>[0]): void {
  try {
    if (base) resolveUpdate(base, input);
    else resolveCreate(input);
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected ValidationError, got ${String(err)}`);
    const hit = err.violations.find((v) => v.field === field);
    assert.ok(hit, `expected a violation on ${field}, got ${err.message}`);
    assert.equal(hit.rule, rule, `rule for ${field}: ${hit.message}`);
    assert.match(err.message, new RegExp(field.replace('.', '\\.')));
    assert.doesNotMatch(err.message, /s3cret!/);
    return;
  }
  assert.fail(`expected ${field} to be rejected (${rule})`);
}

describe('resolveCreate defaults', () => {
  it('fills IMAP defaults: SSL, port 993, INBOX, MARK_READ, push', () => {
    const { settings, warnings } = resolveCreate(imap);
    assert.equal(settings.security, 'SSL');
    assert.equal(settings.port, 993);
    assert.deepEqual(imapPart(settings), { folder: 'INBOX', strategy: 'MARK_READ', moveTo: null, push: true });
    assert.equal(settings.pollIntervalSeconds, 60);
    assert.equal(settings.batchSize, 50);
    assert.equal(settings.retentionDays, 30);
    assert.equal(settings.enabled, true);
    assert.equal(settings.reprocess, false);
    assert.deepEqual(warnings, []);
  });

  it('derives the port from protocol and security', () => {
    assert.equal(defaultPort('POP3', 'NONE'), 110);
    assert.equal(defaultPort('POP3', 'TLS'), 110);
    assert.equal(defaultPort('POP3', 'SSL'), 995);
    assert.equal(defaultPort('IMAP', 'NONE'), 143);
    assert.equal(defaultPort('IMAP', 'TLS'), 143);
    assert.equal(defaultPort('IMAP', 'SSL'), 993);
    assert.equal(resolveCreate({ ...pop3, security: 'TLS' }).settings.port, 110);
    assert.deepEqual([resolveCreate(pop3).settings.folder, resolveCreate(pop3).settings.strategy, resolveCreate(pop3).settings.moveTo], [null, null, null]);
  });

  it('accepts NONE with a warning', () => {
    const { warnings } = resolveCreate({ ...imap, security: 'NONE' });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /clear text/);
  });

  it('warns on a port that does not match the security mode', () => {
    assert.match(resolveCreate({ ...imap, security: 'SSL', port: 143 }).warnings.join(), /STARTTLS/);
    assert.match(resolveCreate({ ...imap, security: 'TLS', port: 993 }).warnings.join(), /implicit TLS/);
  });

  it('accepts subfolders in / notation and a MOVE target', () => {
    const { settings } = resolveCreate({ ...imap, folder: 'Inbox/Incidents', strategy: 'MOVE', moveTo: 'Archive/2026' });
    assert.deepEqual(imapPart(settings), { folder: 'Inbox/Incidents', strategy: 'MOVE', moveTo: 'Archive/2026', push: true });
  });
});

describe('resolveCreate rejects, naming field and rule', () => {
  const cases: Array<[string, ConnectorSpecInput, string, string]> = [
    ['missing protocol', { ...imap, protocol: undefined }, 'spec.protocol', 'required'],
    ['unknown protocol', { ...imap, protocol: 'SMTP' }, 'spec.protocol', 'enum'],
    ['missing name', { ...imap, name: undefined }, 'spec.name', 'required'],
    ['blank name', { ...imap, name: '  ' }, 'spec.name', 'required'],
    ['name too long', { ...imap, name: 'x'.repeat(101) }, 'spec.name', 'max-length'],
    ['control char in name', { ...imap, name: 'a\u0007b' }, 'spec.name', 'no-control'],
    ['empty host', { ...imap, host: '' }, 'spec.host', 'required'],
    ['missing host', { ...imap, host: undefined }, 'spec.host', 'required'],
    ['host with CRLF', { ...imap, host: 'mail.example.com\r\nA1 LOGOUT' }, 'spec.host', 'no-whitespace'],
    ['host with scheme', { ...imap, host: 'imaps://mail.example.com' }, 'spec.host', 'hostname'],
    ['host with port', { ...imap, host: 'mail.example.com:993' }, 'spec.host', 'hostname'],
    ['port 0', { ...imap, port: 0 }, 'spec.port', 'range'],
    ['port 65536', { ...imap, port: 65536 }, 'spec.port', 'range'],
    ['unknown security', { ...imap, security: 'STARTTLS' }, 'spec.security', 'enum'],
    ['missing username', { ...imap, username: undefined }, 'spec.username', 'required'],
    ['username with LF', { ...imap, username: 'a\nb' }, 'spec.username', 'no-line-break'],
    ['username with NUL', { ...imap, username: 'a\0b' }, 'spec.username', 'no-line-break'],
    ['missing password', { ...imap, password: undefined }, 'spec.password', 'required'],
    ['empty password', { ...imap, password: new Secret('') }, 'spec.password', 'required'],
    ['password with CR', { ...imap, password: new Secret('s3cret!\rA2 DELETE INBOX') }, 'spec.password', 'no-line-break'],
    ['password with NUL', { ...imap, password: new Secret('s3cret!\0') }, 'spec.password', 'no-line-break'],
    ['connect timeout below floor', { ...imap, connectTimeoutMs: 999 }, 'spec.connect_timeout_ms', 'range'],
    ['fetch timeout above max', { ...imap, fetchTimeoutMs: 3_600_001 }, 'spec.fetch_timeout_ms', 'range'],
    ['interval below floor', { ...imap, pollIntervalSeconds: 9 }, 'spec.poll_interval_seconds', 'range'],
    ['interval above max', { ...imap, pollIntervalSeconds: 86_401 }, 'spec.poll_interval_seconds', 'range'],
    ['batch < 1', { ...imap, batchSize: 0 }, 'spec.batch_size', 'range'],
    ['batch too large', { ...imap, batchSize: 10_001 }, 'spec.batch_size', 'range'],
    ['retention 0', { ...imap, retentionDays: 0 }, 'spec.retention_days', 'range'],
    ['non-integer retention', { ...imap, retentionDays: 1.5 }, 'spec.retention_days', 'range'],
    ['missing workflow', { ...imap, workflowId: undefined }, 'spec.workflow_id', 'required'],
    ['workflow with control char', { ...imap, workflowId: 'wf\n1' }, 'spec.workflow_id', 'no-control'],
    ['MOVE without target', { ...imap, strategy: 'MOVE' }, 'spec.move_to', 'required-for-move'],
    ['MOVE into the watched folder', { ...imap, folder: 'INBOX/A', strategy: 'MOVE', moveTo: 'inbox/A' }, 'spec.move_to', 'differs-from-folder'],
    ['move_to without MOVE', { ...imap, strategy: 'DELETE', moveTo: 'Archive' }, 'spec.move_to', 'move-only'],
    ['unknown strategy', { ...imap, strategy: 'ARCHIVE' }, 'spec.strategy', 'enum'],
    ['folder with CRLF', { ...imap, folder: 'INBOX\r\nA1 LOGOUT' }, 'spec.folder', 'no-control'],
    ['folder with NUL', { ...imap, folder: 'INBOX\0' }, 'spec.folder', 'no-control'],
    ['folder with empty segment', { ...imap, folder: 'INBOX//Sub' }, 'spec.folder', 'folder-path'],
    ['folder with trailing slash', { ...imap, folder: 'INBOX/' }, 'spec.folder', 'folder-path'],
    ['folder wildcard', { ...imap, folder: 'INBOX/*' }, 'spec.folder', 'no-wildcard'],
    ['move target with CR', { ...imap, strategy: 'MOVE', moveTo: 'Arch\rive' }, 'spec.move_to', 'no-control'],
    ['POP3 with folder', { ...pop3, folder: 'INBOX' }, 'spec.folder', 'imap-only'],
    ['POP3 with strategy', { ...pop3, strategy: 'DELETE' }, 'spec.strategy', 'imap-only'],
    ['POP3 with move_to', { ...pop3, moveTo: 'Archive' }, 'spec.move_to', 'imap-only'],
    ['POP3 with push', { ...pop3, push: true }, 'spec.push', 'imap-only'],
    ['CA that is not PEM', { ...imap, trustedCaPem: 'hello' }, 'spec.trusted_ca_pem', 'pem'],
    [
      'CA that does not parse',
      { ...imap, trustedCaPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' },
      'spec.trusted_ca_pem',
      'pem',
    ],
  ];
  for (const [title, input, field, rule] of cases) {
    it(`${title} → ${field} (${rule})`, () => violation(input, field, rule));
  }

  it('reports every bad field at once', () => {
    try {
      resolveCreate({ ...imap, host: '', port: 0, batchSize: 0 });
      assert.fail('expected rejection');
    } catch (err) {
      assert.ok(err instanceof ValidationError);
      assert.deepEqual(err.violations.map((v) => v.field).sort(), ['spec.batch_size', 'spec.host', 'spec.port']);
    }
  });
});

describe('trusted CA', () => {
  it('accepts a real PEM and refuses it with security NONE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-ca-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'ca.pem')], {
      stdio: 'ignore',
    });
    const pem = readFileSync(join(dir, 'ca.pem'), 'utf8');
    assert.match(resolveCreate({ ...imap, trustedCaPem: pem }).settings.trustedCaPem ?? '', /BEGIN CERTIFICATE/);
    violation({ ...imap, security: 'NONE', trustedCaPem: pem }, 'spec.trusted_ca_pem', 'requires-tls');
  });
});

describe('resolveUpdate', () => {
  const base = resolveCreate({ ...imap, strategy: 'MOVE', moveTo: 'Done' }).settings;

  it('keeps unset fields and the password', () => {
    const r = resolveUpdate(base, { pollIntervalSeconds: 300 });
    assert.equal(r.settings.pollIntervalSeconds, 300);
    assert.equal(r.settings.host, base.host);
    assert.equal(r.password, undefined);
    assert.deepEqual(imapPart(r.settings), imapPart(base));
  });

  it('drops a stale MOVE target when the strategy changes', () => {
    assert.deepEqual(imapPart(resolveUpdate(base, { strategy: 'MARK_READ' }).settings), { folder: 'INBOX', strategy: 'MARK_READ', moveTo: null, push: true });
  });

  it('checks the merged result (new folder equal to the old target)', () => {
    violation({ folder: 'Done' }, 'spec.move_to', 'differs-from-folder', base);
  });

  it('refuses a protocol change', () => violation({ protocol: 'POP3' }, 'spec.protocol', 'immutable', base));

  it('moves to the usual port when security changes on a default port, keeps a custom one', () => {
    const password = new Secret('again');
    assert.equal(resolveUpdate(base, { security: 'TLS', password }).settings.port, 143);
    const custom = resolveCreate({ ...imap, port: 10993 }).settings;
    assert.equal(resolveUpdate(custom, { security: 'TLS', password }).settings.port, 10993);
  });

  it('needs the password again to change where it is sent, and only then', () => {
    const withCa = { ...base, trustedCaPem: 'x' };
    for (const [from, patch] of [[base, { host: 'elsewhere.example' }], [base, { port: 1993 }], [base, { security: 'NONE' as const }], [withCa, { trustedCaPem: '' }]] as const) {
      assert.throws(
        () => resolveUpdate(from, patch),
        (e: unknown) => e instanceof PermissionDeniedError && e.reason === 'PASSWORD_REQUIRED' && e.message.startsWith('spec.password: changing spec.'),
        JSON.stringify(patch),
      );
    }
    assert.equal(resolveUpdate(base, { host: 'elsewhere.example', password: new Secret('again') }).settings.host, 'elsewhere.example');
    assert.equal(resolveUpdate(base, { host: base.host, pollIntervalSeconds: 300 }).settings.pollIntervalSeconds, 300);
  });
});
