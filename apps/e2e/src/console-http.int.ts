// The web console over HTTP, route by route, against `postbote start`: nothing answers
// without a session, roles come from the API's permission table, every change needs the
// session's CSRF token, errors map to pages with the right status, secrets never come back.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { call, connect } from '@postbote/grpc-runtime';
import { AccessServiceClient } from '@postbote/proto';
import { ConsoleHttp, DOVECOT, DOVECOT_PASSWORD, addConsoleUser, adminAuthFrom, consoleUrlFrom, runCli, serviceAddresses, startAllInOne, tempDir, type Proc } from '@postbote/testing';

const PASSWORDS = { admin: 'admin-console-pw-1', operator: 'operator-console-pw-1', viewer: 'viewer-console-pw-1' };
const MAIL_PASSWORD = DOVECOT_PASSWORD; // the test Dovecot's one password: the connection test logs in with it

describe('web console over HTTP (all-in-one)', () => {
  const dataDir = tempDir('pb-console-http-');
  let env: NodeJS.ProcessEnv;
  let proc: Proc;
  let base = '';

  before(async () => {
    env = { POSTBOTE_DATA_DIR: dataDir, ...(await serviceAddresses()), LOG_LEVEL: 'info' };
    proc = await startAllInOne(env);
    base = consoleUrlFrom(proc.out());
    for (const role of ['admin', 'operator', 'viewer'] as const) addConsoleUser(env, `${role}@example.test`, role, PASSWORDS[role]);
  });

  after(() => {
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  const signedIn = async (role: keyof typeof PASSWORDS) => {
    const c = new ConsoleHttp(base);
    const r = await c.signIn(`${role}@example.test`, PASSWORDS[role]);
    assert.equal(r.status, 303, `sign-in of ${role}`);
    await c.request('/connectors');
    return c;
  };

  it('prints its URL at start and serves every page only to a signed-in person', async () => {
    assert.match(proc.out(), /web console at http:\/\/127\.0\.0\.1:\d+\//);
    const stranger = new ConsoleHttp(base);
    for (const path of ['/connectors', '/connectors/new', '/fleet', '/connectors/00000000-0000-4000-8000-000000000000', '/connectors/x/log', '/connectors/x/emails', '/emails/x', '/emails/x/raw']) {
      const r = await stranger.request(path);
      assert.equal(r.status, 303, path);
      assert.equal(r.location, `/sign-in?next=${encodeURIComponent(path)}`);
    }
    for (const path of ['/connectors', '/connectors/x', '/connectors/x/enabled', '/connectors/x/delete', '/connectors/x/test', '/connectors/test-form', '/connectors/folders', '/sign-out']) {
      assert.equal((await stranger.request(path, { form: { name: 'x' } })).status, 401, path);
    }
    // A forged cookie is no session either.
    const forged = await stranger.request('/connectors', { headers: { cookie: 'postbote_session=pbt_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    assert.equal(forged.status, 303);
  });

  it('refuses a wrong password with one message for unknown names and wrong passwords, and limits attempts per user', async () => {
    const c = new ConsoleHttp(base);
    const unknown = await c.signIn('nobody@example.test', 'whatever-password');
    const wrong = await c.signIn('viewer@example.test', 'not-the-password');
    assert.equal(unknown.status, 401);
    assert.equal(wrong.status, 401);
    assert.match(unknown.body, /Unknown user name or wrong password/);
    assert.match(wrong.body, /Unknown user name or wrong password/);
    // A sign-in form not loaded from the console (no matching nonce cookie) is refused.
    const blind = await new ConsoleHttp(base).request('/sign-in', { form: { _signin: 'x', name: 'viewer@example.test', password: PASSWORDS.viewer } });
    assert.equal(blind.status, 403);
    let limited = 0;
    for (let i = 0; i < 12; i++) if ((await c.signIn('limited@example.test', 'wrong-password')).status === 429) limited++;
    assert.ok(limited >= 2, `attempts beyond the burst are refused (${limited})`);
  });

  it('needs the session CSRF token and the console origin for every change', async () => {
    const op = await signedIn('operator');
    const noToken = await op.request('/connectors', { form: { protocol: 'IMAP', name: 'csrf' } });
    assert.equal(noToken.status, 403);
    assert.match(noToken.body, /did not come from this console/);
    const wrongToken = await op.request('/connectors', { form: { _csrf: 'forged', protocol: 'IMAP', name: 'csrf' } });
    assert.equal(wrongToken.status, 403);
    const otherOrigin = await op.post('/connectors', { protocol: 'IMAP', name: 'csrf' }, { origin: 'http://evil.example' });
    assert.equal(otherOrigin.status, 403);
  });

  it('shows every validation error at its field in one answer, then creates the connector; no secret ever comes back', async () => {
    const op = await signedIn('operator');
    await op.request('/connectors/new?protocol=IMAP');
    const form = {
      protocol: 'IMAP',
      name: 'Incidents',
      host: DOVECOT.host,
      port: 'abc',
      security: 'SSL',
      trusted_ca_pem: DOVECOT.caPem(),
      auth_type: 'PASSWORD',
      username: 'console-http',
      password: MAIL_PASSWORD,
      folder: 'INBOX',
      strategy: 'MARK_READ',
      push: 'on',
      poll_interval_seconds: '5',
      batch_size: '50',
      connect_timeout_ms: '10000',
      fetch_timeout_ms: '60000',
      workflow_id: '',
      retention_days: '30',
      enabled: 'on',
    };
    const bad = await op.post('/connectors', form);
    assert.equal(bad.status, 422);
    assert.match(bad.body, /id="f-port-error">must be a whole number from 1 to 65,535</);
    assert.match(bad.body, /id="f-poll_interval_seconds-error">must be a whole number from 10 to 86,400</);
    assert.match(bad.body, /id="f-workflow_id-error">is required</);
    assert.match(bad.body, /id="f-port" [^>]*aria-invalid="true"/);
    assert.ok(!bad.body.includes(MAIL_PASSWORD), 'the typed password is not sent back');
    assert.match(bad.body, /id="f-password-error">Enter it again: a password is never sent back to the browser\.</, 'and the form says so at the field');
    assert.match(bad.body, /value="Incidents"/, 'what was typed stays');
    const good = await op.post('/connectors', { ...form, port: String(DOVECOT.imaps), poll_interval_seconds: '60', workflow_id: 'wf-incidents' });
    assert.equal(good.status, 303);
    const detailPath = good.location.replace(/\?.*$/, '');
    const pages = [await op.request(good.location), await op.request(`${detailPath}/edit`), await op.request('/connectors')];
    for (const p of pages) {
      assert.equal(p.status, 200);
      assert.ok(!p.body.includes(MAIL_PASSWORD), 'no page shows the password');
    }
    assert.match(pages[0]!.body, /Connector created/);
    assert.match(pages[0]!.body, /<th scope="row">Password<\/th><td>set<\/td>/);
    assert.match(pages[1]!.body, /placeholder="set — leave empty to keep"/);
    // The same name again: refused at the name field.
    await op.request('/connectors/new?protocol=IMAP');
    const twice = await op.post('/connectors', { ...form, port: String(DOVECOT.imaps), poll_interval_seconds: '60', workflow_id: 'wf' });
    assert.equal(twice.status, 422);
    assert.match(twice.body, /id="f-name-error">/);
    // Moving the server without the password again: refused at the password field.
    await op.request(`${detailPath}/edit`);
    const moved = await op.post(detailPath, { ...form, port: String(DOVECOT.imap), security: 'TLS', poll_interval_seconds: '60', workflow_id: 'wf-incidents', password: '' });
    assert.equal(moved.status, 422);
    assert.match(moved.body, /id="f-password-error">changing “Port”, “Security” decides where the stored secret is sent: enter it again</);
  });

  it('lets a viewer read but not change, as the permission table says; unknown things are 404', async () => {
    const viewer = await signedIn('viewer');
    const list = await viewer.request('/connectors');
    assert.equal(list.status, 200);
    assert.ok(!list.body.includes('New IMAP connector'), 'no create button for a viewer');
    const id = /href="\/connectors\/([0-9a-f-]{36})"/.exec(list.body)?.[1];
    assert.ok(id, 'the viewer sees the connector');
    const detail = await viewer.request(`/connectors/${id}`);
    assert.equal(detail.status, 200);
    assert.ok(!/>Edit<|>Disable<|Delete…/.test(detail.body), 'no change buttons for a viewer');
    assert.equal((await viewer.request('/connectors/new')).status, 403);
    assert.equal((await viewer.request(`/connectors/${id}/edit`)).status, 403);
    // Posted anyway (with a valid CSRF token): the config service's gate refuses it.
    const refused = await viewer.post(`/connectors/${id}/enabled`, { enabled: 'false' });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /may not call SetConnectorEnabled in workspace default \(needs admin or operator\)/);
    assert.equal((await viewer.request('/connectors/00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await viewer.request('/emails/00000000-0000-4000-8000-000000000000')).status, 404);
    assert.equal((await viewer.request('/no-such-page')).status, 404);
    assert.equal((await viewer.request('/fleet')).status, 200);
  });

  it('ends the session on sign-out; removing a user ends theirs; every sign-in and change is in the audit log by name', async () => {
    const op = await signedIn('operator');
    const cookie = op.cookieHeader;
    assert.equal((await op.post('/sign-out', {})).status, 200);
    const replay = await new ConsoleHttp(base).request('/connectors', { headers: { cookie } });
    assert.equal(replay.status, 303, 'the old cookie no longer works');

    addConsoleUser(env, 'temp@example.test', 'operator', 'temporary-console-pw');
    const temp = new ConsoleHttp(base);
    assert.equal((await temp.signIn('temp@example.test', 'temporary-console-pw')).status, 303);
    assert.equal((await temp.request('/connectors')).status, 200);
    const removed = runCli(env, ['console', 'remove-user', 'temp@example.test']);
    assert.equal(removed.code, 0, removed.err);
    // The services refuse the session's token at once; the console then sends the person to sign in.
    const gone = await temp.request('/connectors');
    assert.equal(gone.status, 303);
    assert.equal(gone.location, '/sign-in');
    const access = connect(AccessServiceClient, env['CONFIG_SERVICE_ADDR']!, adminAuthFrom(dataDir));
    try {
      const audit = await call(access.listAuditEntries, access, { pageSize: 200, pageToken: '', targetId: '' });
      const actions = audit.entries.map((e) => `${e.action} ${e.actor}`);
      assert.ok(actions.some((a) => /^CONSOLE_SIGNED_IN console user operator@example\.test$/.test(a)), actions.join('\n'));
      assert.ok(actions.some((a) => /^CONNECTOR_CREATED token [0-9a-f]{12} \(console: operator@example\.test, operator\)$/.test(a)), actions.join('\n'));
      assert.ok(actions.some((a) => a.startsWith('CONSOLE_SIGNED_OUT ')));
      assert.ok(actions.some((a) => a.startsWith('CONSOLE_USER_REMOVED ')));
      assert.ok(!JSON.stringify(audit.entries).includes(PASSWORDS.operator), 'no password in the audit log');
      const tokens = await call(access.listTokens, access, { includeRevoked: true });
      assert.ok(tokens.tokens.every((t) => !t.name.startsWith('console: ')), 'sessions are not listed as API tokens');
    } finally {
      access.close();
    }
  });

  it('tests a stored connector, lists its folders, and deletes it after a confirmation that says what happens to its emails', async () => {
    const op = await signedIn('operator');
    const list = await op.request('/connectors');
    const id = /href="\/connectors\/([0-9a-f-]{36})"/.exec(list.body)?.[1];
    assert.ok(id);
    await op.request(`/connectors/${id}`);
    const tested = await op.post(`/connectors/${id}/test`, {});
    assert.equal(tested.status, 200);
    assert.match(tested.body, /The connection works\./);
    assert.match(tested.body, /<td>LOGIN<\/td><td class="ok">ok<\/td>/);
    const folders = await op.post(`/connectors/${id}/folders`, {}, { accept: 'application/json' });
    assert.equal(folders.status, 200);
    assert.ok((JSON.parse(folders.body) as { folders: string[] }).folders.includes('INBOX'));
    const confirm = await op.request(`/connectors/${id}/delete`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.body, /stored emails stay downloadable until\s+their retention ends \(30 days after each was stored\), unless you delete them now/);
    const deleted = await op.post(`/connectors/${id}/delete`, { purge_emails_now: 'on' });
    assert.equal(deleted.status, 303);
    assert.equal((await op.request(`/connectors/${id}`)).status, 404);
  });

  it('lets an admin manage console users and read the audit log in the browser; others get 403', async () => {
    const admin = await signedIn('admin');
    const usersPage = await admin.request('/users');
    assert.equal(usersPage.status, 200);
    assert.match(usersPage.body, /<a href="\/audit">Audit log<\/a>/);
    const short = await admin.post('/users', { name: 'Carl', role: 'operator', password: 'short' });
    assert.equal(short.status, 422);
    assert.match(short.body, /id="u-password-error">must be 12 to 200 characters</);
    assert.match(short.body, /value="Carl"/);
    const added = await admin.post('/users', { name: 'carl', role: 'operator', password: 'carl-console-password' });
    assert.equal(added.status, 303);
    const listed = await admin.request(added.location);
    assert.match(listed.body, /<td>carl<\/td><td>operator<\/td>/);
    assert.ok(!listed.body.includes('carl-console-password') && !listed.body.includes('scrypt'));
    const carl = new ConsoleHttp(base);
    assert.equal((await carl.signIn('carl', 'carl-console-password')).status, 303);
    for (const path of ['/users', '/audit']) assert.equal((await carl.request(path)).status, 403, `${path} for an operator`);
    assert.ok(!(await carl.request('/connectors')).body.includes('href="/users"'), 'no admin links for an operator');
    const audit = await admin.request('/audit');
    assert.equal(audit.status, 200);
    assert.match(audit.body, /CONSOLE_USER_ADDED/);
    assert.match(audit.body, /CONNECTOR_CREATED/);
    assert.ok(!audit.body.includes('carl-console-password'));
    await admin.request('/users');
    assert.equal((await admin.post('/users/remove', { name: 'carl' })).status, 303);
    assert.equal((await carl.request('/connectors')).status, 303, 'a removed user\'s session ends');
  });

  it('answers malformed requests with a 4xx and stays up', async () => {
    const raw = (path: string, init: RequestInit) => fetch(`${base}${path}`, { redirect: 'manual', ...init }).then((r) => r.status);
    const statuses = [
      await raw('/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"_csrf":[1,2],"name":{"a":1}}' }),
      await raw('/connectors/%E0%A4%A', {}),
      await raw('/sign-in', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '%ZZ=%%&' }),
      await raw('/sign-in', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' }),
      await raw('/sign-in', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: 'x' }),
      await raw('/connectors', { headers: { cookie: `postbote_session=${'%ZZ'.repeat(1000)}` } }),
    ];
    for (const s of statuses) assert.ok(s >= 300 && s < 500, `status ${s} in ${statuses.join(', ')}`);
    // Over the 1 MiB body limit: 413, or the connection cut while the client still writes.
    const big = await raw('/sign-in', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `name=${'a'.repeat(2 * 1024 * 1024)}` }).catch(() => 413);
    assert.equal(big, 413);
    // An open redirect is not possible through the sign-in's `next`.
    const c = new ConsoleHttp(base);
    const page = await c.request('/sign-in?next=//evil.example/x');
    assert.match(page.body, /name="next" value="\/connectors"/);
    assert.equal((await raw('/sign-in', {})), 200);
  });

  it('sends a person only to its own paths after sign-in, judged by the raw Location header', async () => {
    // Few sign-ins (they are rate-limited per address); safe-next.spec.ts has the other shapes.
    for (const next of ['/\t/evil.example/x', '/a/..//evil.example']) {
      const r = await new ConsoleHttp(base).signIn('viewer@example.test', PASSWORDS.viewer, next);
      assert.equal(r.status, 303, JSON.stringify(next));
      assert.equal(r.location, '/connectors', JSON.stringify(next));
    }
    const kept = await new ConsoleHttp(base).signIn('viewer@example.test', PASSWORDS.viewer, '/fleet?x=1');
    assert.equal(kept.location, '/fleet?x=1');
  });

  it('add-user checks its input and never takes the password as an argument', () => {
    const short = runCli(env, ['console', 'add-user', 'short@example.test', '--role', 'viewer', '--password-stdin'], 'short\n');
    assert.equal(short.code, 2);
    assert.match(short.err, /password: must be 12 to 200 characters/);
    const again = runCli(env, ['console', 'add-user', 'viewer@example.test', '--role', 'viewer', '--password-stdin'], 'another-long-password\n');
    assert.equal(again.code, 2);
    assert.match(again.err, /ALREADY_EXISTS: viewer@example\.test is a member of workspace default already/);
    const noSecret = runCli(env, ['console', 'add-user', 'x@example.test', '--role', 'viewer']);
    assert.equal(noSecret.code, 2);
    const users = runCli(env, ['--json', 'console', 'users']);
    assert.equal(users.code, 0, users.err);
    const listed = JSON.parse(users.out) as Array<{ name: string; role: string }>;
    assert.deepEqual(listed.map((u) => u.name).sort(), ['admin@example.test', 'operator@example.test', 'viewer@example.test']);
    assert.ok(!users.out.includes('scrypt'), 'no hash in the listing');
  });

  it('speaks German to a browser that asks for it, and keeps the language the switch chose', async () => {
    const de = { 'accept-language': 'de-DE,de;q=0.9,en;q=0.5' };
    const c = new ConsoleHttp(base);
    const signIn = await c.request('/sign-in', { headers: de });
    assert.match(signIn.body, /<html lang="de">/);
    assert.equal(signIn.headers.get('content-language'), 'de');
    assert.match(signIn.body, /Bei Postbote anmelden/);
    const op = await signedIn('operator');
    const form = await op.request('/connectors/new?protocol=IMAP', { headers: de });
    assert.match(form.body, /<label for="f-poll_interval_seconds">Abrufintervall<\/label>/);
    assert.match(form.body, /<legend>Anmeldung am Postfach<\/legend>/);
    assert.match(form.body, /<option value="MARK_READ" selected>Als gelesen markieren<\/option>/);
    const bad = await op.post('/connectors', { name: 'Falsch', protocol: 'IMAP', host: '127.0.0.1', username: 'u', password: 'pw', poll_interval_seconds: '5', workflow_id: 'wf' }, de);
    assert.equal(bad.status, 422);
    assert.match(bad.body, /id="f-poll_interval_seconds-error">muss eine ganze Zahl von 10 bis 86\.400 sein</);
    assert.match(bad.body, /id="f-password-error">Bitte erneut eingeben/);
    // The switch is remembered over what the browser asks for (the way back to the page it was
    // chosen on follows the Referer, which fetch does not send: the browser test covers it).
    const back = await op.request('/language/en', { headers: de });
    assert.equal(back.status, 303);
    assert.equal(back.location, '/connectors');
    const english = await op.request('/connectors/new?protocol=POP3', { headers: de });
    assert.match(english.body, /<html lang="en">/);
    assert.match(english.body, /default 995 with SSL, 110 with TLS or none/, 'the POP3 form names POP3 ports only');
    assert.ok(!/143|993/.test(english.body), 'and no IMAP port');
    // A browser that asks for neither language reads English.
    assert.match((await new ConsoleHttp(base).request('/sign-in', { headers: { 'accept-language': 'fr-FR,fr;q=0.9' } })).body, /<html lang="en">/);
  });

  it('has an icon where browsers look for it', async () => {
    const icon = await new ConsoleHttp(base).request('/favicon.ico');
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get('content-type') ?? '', /image\/svg\+xml/);
  });
});
