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
    if (base) resolveUpdate(base, input, ['password']);
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
    ['NEL (U+0085) in name', { ...imap, name: 'a\u0085b' }, 'spec.name', 'no-control'],
    ['line separator in name', { ...imap, name: 'a\u2028b' }, 'spec.name', 'no-control'],
    ['bidi override in name', { ...imap, name: 'a\u202eb' }, 'spec.name', 'visible'],
    ['empty host', { ...imap, host: '' }, 'spec.host', 'required'],
    ['missing host', { ...imap, host: undefined }, 'spec.host', 'required'],
    ['host with CRLF', { ...imap, host: 'mail.example.com\r\nA1 LOGOUT' }, 'spec.host', 'no-whitespace'],
    ['host with scheme', { ...imap, host: 'imaps://mail.example.com' }, 'spec.host', 'hostname'],
    ['host with port', { ...imap, host: 'mail.example.com:993' }, 'spec.host', 'hostname'],
    ['port 0', { ...imap, port: 0 }, 'spec.port', 'range'],
    ['port 65536', { ...imap, port: 65536 }, 'spec.port', 'range'],
    ['unknown security', { ...imap, security: 'STARTTLS' }, 'spec.security', 'enum'],
    ['missing username', { ...imap, username: undefined }, 'spec.username', 'required'],
    ['username with LF', { ...imap, username: 'a\nb' }, 'spec.username', 'no-control'],
    ['username with NUL', { ...imap, username: 'a\0b' }, 'spec.username', 'no-control'],
    ['username with SOH', { ...imap, username: 'a\u0001b' }, 'spec.username', 'no-control'],
    ['username with ESC', { ...imap, username: 'a\u001b[2Jb' }, 'spec.username', 'no-control'],
    ['username with C1 CSI', { ...imap, username: 'a\u009bb' }, 'spec.username', 'no-control'],
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
    ['workflow with NEL', { ...imap, workflowId: 'wf\u00851' }, 'spec.workflow_id', 'no-control'],
    ['workflow with paragraph separator', { ...imap, workflowId: 'wf\u20291' }, 'spec.workflow_id', 'no-control'],
    ['MOVE without target', { ...imap, strategy: 'MOVE' }, 'spec.move_to', 'required-for-move'],
    ['MOVE into the watched folder', { ...imap, folder: 'INBOX/A', strategy: 'MOVE', moveTo: 'inbox/A' }, 'spec.move_to', 'differs-from-folder'],
    ['move_to without MOVE', { ...imap, strategy: 'DELETE', moveTo: 'Archive' }, 'spec.move_to', 'move-only'],
    ['unknown strategy', { ...imap, strategy: 'ARCHIVE' }, 'spec.strategy', 'enum'],
    ['folder with CRLF', { ...imap, folder: 'INBOX\r\nA1 LOGOUT' }, 'spec.folder', 'no-control'],
    ['folder with NUL', { ...imap, folder: 'INBOX\0' }, 'spec.folder', 'no-control'],
    ['folder with NEL', { ...imap, folder: 'INBOX\u0085A1 LOGOUT' }, 'spec.folder', 'no-control'],
    ['folder with line separator', { ...imap, folder: 'INBOX\u2028x' }, 'spec.folder', 'no-control'],
    ['folder with empty segment', { ...imap, folder: 'INBOX//Sub' }, 'spec.folder', 'folder-path'],
    ['folder with trailing slash', { ...imap, folder: 'INBOX/' }, 'spec.folder', 'folder-path'],
    ['folder wildcard', { ...imap, folder: 'INBOX/*' }, 'spec.folder', 'no-wildcard'],
    ['move target with CR', { ...imap, strategy: 'MOVE', moveTo: 'Arch\rive' }, 'spec.move_to', 'no-control'],
    ['move target with NEL', { ...imap, strategy: 'MOVE', moveTo: 'Arch\u0085ive' }, 'spec.move_to', 'no-control'],
    ['move target with line separator', { ...imap, strategy: 'MOVE', moveTo: 'Arch\u2028ive' }, 'spec.move_to', 'no-control'],
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

/** An update of a connector that has a stored password. */
const update = (b: Parameters<typeof resolveUpdate>[0], patch: ConnectorSpecInput) => resolveUpdate(b, patch, ['password']);

describe('resolveUpdate', () => {
  const base = resolveCreate({ ...imap, strategy: 'MOVE', moveTo: 'Done' }).settings;

  it('keeps unset fields and the password', () => {
    const r = update(base, { pollIntervalSeconds: 300 });
    assert.equal(r.settings.pollIntervalSeconds, 300);
    assert.equal(r.settings.host, base.host);
    assert.equal(r.secrets.password, undefined);
    assert.deepEqual(imapPart(r.settings), imapPart(base));
  });

  it('drops a stale MOVE target when the strategy changes', () => {
    assert.deepEqual(imapPart(update(base, { strategy: 'MARK_READ' }).settings), { folder: 'INBOX', strategy: 'MARK_READ', moveTo: null, push: true });
  });

  it('checks the merged result (new folder equal to the old target)', () => {
    violation({ folder: 'Done' }, 'spec.move_to', 'differs-from-folder', base);
  });

  it('refuses a protocol change', () => violation({ protocol: 'POP3' }, 'spec.protocol', 'immutable', base));

  it('moves to the usual port when security changes on a default port, keeps a custom one', () => {
    const password = new Secret('again');
    assert.equal(update(base, { security: 'TLS', password }).settings.port, 143);
    const custom = resolveCreate({ ...imap, port: 10993 }).settings;
    assert.equal(update(custom, { security: 'TLS', password }).settings.port, 10993);
  });

  it('needs the password again to change where it is sent, and only then', () => {
    const withCa = { ...base, trustedCaPem: 'x' };
    for (const [from, patch] of [[base, { host: 'elsewhere.example' }], [base, { port: 1993 }], [base, { security: 'NONE' as const }], [withCa, { trustedCaPem: '' }]] as const) {
      assert.throws(
        () => update(from, patch),
        (e: unknown) => e instanceof PermissionDeniedError && e.reason === 'PASSWORD_REQUIRED' && e.message.startsWith('spec.password: changing spec.'),
        JSON.stringify(patch),
      );
    }
    assert.equal(update(base, { host: 'elsewhere.example', password: new Secret('again') }).settings.host, 'elsewhere.example');
    assert.equal(update(base, { host: base.host, pollIntervalSeconds: 300 }).settings.pollIntervalSeconds, 300);
  });
});

describe('OAuth2 settings', () => {
  const oauth: ConnectorSpecInput = { ...imap, host: undefined, password: undefined, authType: 'OAUTH2', oauthProvider: 'MICROSOFT', oauthClientId: 'app-1', oauthRefreshToken: new Secret('rt-1') };

  it('fills server, token endpoint and scope from the provider preset, per protocol', () => {
    const m = resolveCreate(oauth);
    assert.equal(m.settings.host, 'outlook.office365.com');
    assert.equal(m.settings.oauthTokenUrl, 'https://login.microsoftonline.com/common/oauth2/v2.0/token');
    assert.match(m.settings.oauthScope ?? '', /IMAP\.AccessAsUser\.All offline_access/);
    assert.equal(m.secrets.oauthRefreshToken?.reveal(), 'rt-1');
    assert.match(resolveCreate({ ...oauth, protocol: 'POP3' }).settings.oauthScope ?? '', /POP\.AccessAsUser\.All/);
    const g = resolveCreate({ ...oauth, oauthProvider: 'GOOGLE', protocol: 'POP3' }).settings;
    assert.equal(g.host, 'pop.gmail.com');
    assert.equal(g.oauthTokenUrl, 'https://oauth2.googleapis.com/token');
    // Given values win over the preset; an empty scope asks for the grant's own.
    const own = resolveCreate({ ...oauth, host: 'mail.example.com', oauthTokenUrl: 'https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token', oauthScope: '' }).settings;
    assert.equal(own.host, 'mail.example.com');
    assert.match(own.oauthTokenUrl ?? '', /tenant-1/);
    assert.equal(own.oauthScope, null);
  });

  it('leaves OAuth2 settings null on a password connector and refuses them there', () => {
    const p = resolveCreate(imap).settings;
    assert.equal(p.authType, 'PASSWORD');
    assert.deepEqual([p.oauthProvider, p.oauthClientId, p.oauthTokenUrl, p.oauthScope], [null, null, null, null]);
    violation({ ...imap, oauthClientId: 'x' }, 'spec.oauth_client_id', 'oauth2-only');
    violation({ ...imap, oauthRefreshToken: new Secret('rt') }, 'spec.oauth_refresh_token', 'auth-type');
    violation({ ...oauth, password: new Secret('s3cret!') }, 'spec.password', 'auth-type');
  });

  it('requires the refresh token, the client ID, and a token endpoint for CUSTOM', () => {
    violation({ ...oauth, oauthRefreshToken: undefined }, 'spec.oauth_refresh_token', 'required');
    violation({ ...oauth, oauthClientId: undefined }, 'spec.oauth_client_id', 'required');
    violation({ ...oauth, host: 'mail.example.com', oauthProvider: 'CUSTOM' }, 'spec.oauth_token_url', 'required');
    violation({ ...oauth, oauthRefreshToken: new Secret('a\nb') }, 'spec.oauth_refresh_token', 'no-line-break');
  });

  it('sends the refresh token only over https (plain http to loopback only), to a URL without credentials', () => {
    const custom = { ...oauth, host: 'mail.example.com', oauthProvider: 'CUSTOM' } as const;
    violation({ ...custom, oauthTokenUrl: 'http://idp.example.com/token' }, 'spec.oauth_token_url', 'https');
    violation({ ...custom, oauthTokenUrl: 'ftp://idp.example.com/token' }, 'spec.oauth_token_url', 'https');
    violation({ ...custom, oauthTokenUrl: 'not a url' }, 'spec.oauth_token_url', 'url');
    violation({ ...custom, oauthTokenUrl: 'https://id:secret@idp.example.com/token' }, 'spec.oauth_token_url', 'no-credentials');
    assert.equal(resolveCreate({ ...custom, oauthTokenUrl: 'http://127.0.0.1:21180/token' }).settings.oauthTokenUrl, 'http://127.0.0.1:21180/token');
  });

  it('needs the refresh token again to send the access token elsewhere, and the client secret too when the token endpoint moves', () => {
    const base = resolveCreate({ ...oauth, oauthClientSecret: new Secret('cs') }).settings;
    const stored = ['oauthClientSecret', 'oauthRefreshToken'] as const;
    assert.throws(
      () => resolveUpdate(base, { host: 'imap.evil.example' }, stored),
      (e: unknown) => e instanceof PermissionDeniedError && e.reason === 'PASSWORD_REQUIRED' && e.message.startsWith('spec.oauth_refresh_token: changing spec.host'),
    );
    assert.throws(
      () => resolveUpdate(base, { oauthTokenUrl: 'https://idp.evil.example/token', oauthRefreshToken: new Secret('rt-2') }, stored),
      (e: unknown) => e instanceof PermissionDeniedError && e.message.startsWith('spec.oauth_client_secret: changing spec.oauth_token_url') && e.message.includes('client secret'),
    );
    const moved = resolveUpdate(base, { oauthTokenUrl: 'https://idp.example/token', oauthRefreshToken: new Secret('rt-2'), oauthClientSecret: new Secret('cs-2') }, stored);
    assert.equal(moved.settings.oauthTokenUrl, 'https://idp.example/token');
    assert.equal(resolveUpdate(base, { oauthScope: 'a b' }, stored).settings.oauthScope, 'a b');
  });

  it('switches a password connector to OAuth2 only with a refresh token, and back only with a password', () => {
    const p = resolveCreate(imap).settings;
    violation({ authType: 'OAUTH2', oauthProvider: 'GOOGLE', oauthClientId: 'c' }, 'spec.oauth_refresh_token', 'required', p);
    const o = resolveUpdate(p, { authType: 'OAUTH2', oauthProvider: 'GOOGLE', oauthClientId: 'c', oauthRefreshToken: new Secret('rt') }, ['password']).settings;
    assert.equal(o.oauthTokenUrl, 'https://oauth2.googleapis.com/token');
    assert.equal(o.host, p.host, 'the server stays what it was');
    assert.throws(() => resolveUpdate(o, { authType: 'PASSWORD' }, ['oauthRefreshToken']), (e: unknown) => e instanceof ValidationError && e.violations[0]?.field === 'spec.password');
    assert.equal(resolveUpdate(o, { authType: 'PASSWORD', password: new Secret('pw') }, ['oauthRefreshToken']).settings.oauthTokenUrl, null);
  });
});

describe('proxy settings', () => {
  it('takes socks5 or http with host, port and at most a user; the password apart', () => {
    assert.equal(resolveCreate({ ...imap, proxyUrl: 'socks5://fetcher@proxy.example.com:1080' }).settings.proxyUrl, 'socks5://fetcher@proxy.example.com:1080');
    assert.equal(resolveCreate({ ...imap, proxyUrl: 'http://10.0.0.8:3128/' }).settings.proxyUrl, 'http://10.0.0.8:3128');
    assert.equal(resolveCreate(imap).settings.proxyUrl, null);
    violation({ ...imap, proxyUrl: 'https://proxy.example.com:443' }, 'spec.proxy_url', 'scheme');
    violation({ ...imap, proxyUrl: 'socks5://u:pw@proxy.example.com:1080' }, 'spec.proxy_url', 'no-password');
    violation({ ...imap, proxyUrl: 'socks5://proxy.example.com' }, 'spec.proxy_url', 'port');
    violation({ ...imap, proxyUrl: 'http://proxy.example.com:3128/path' }, 'spec.proxy_url', 'host-port-only');
    violation({ ...imap, proxyPassword: new Secret('x') }, 'spec.proxy_password', 'proxy-only');
  });

  it('needs the login secret again to route through another proxy, and the stored proxy password too', () => {
    const base = resolveCreate({ ...imap, proxyUrl: 'socks5://u@proxy.example.com:1080', proxyPassword: new Secret('pp') }).settings;
    const stored = ['password', 'proxyPassword'] as const;
    assert.throws(
      () => resolveUpdate(base, { proxyUrl: 'socks5://u@evil.example.com:1080', password: new Secret('s3cret!') }, stored),
      (e: unknown) => e instanceof PermissionDeniedError && e.message.startsWith('spec.proxy_password: changing spec.proxy_url'),
    );
    assert.equal(resolveUpdate(base, { proxyUrl: '', password: new Secret('s3cret!') }, stored).settings.proxyUrl, null, 'going direct needs the password only');
  });
});
