// The web console in a real browser (Debian's Chromium through playwright-core) against
// `postbote start` and the test Dovecot: what a person does without the CLI, screen by screen.
// Each screen is saved to .cache/console-screenshots/ (the README's picture comes from there).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DOVECOT, addConsoleUser, consoleBrowser, consoleUrlFrom, dovecotUser, eventually, mailboxAs, runCli, screenshotDir, serviceAddresses, startAllInOne, tempDir, testMail, type Proc, type ServiceAddresses } from '@postbote/testing';

describe('web console in a browser (all-in-one, Dovecot)', () => {
  const dataDir = tempDir('pb-console-browser-');
  const mailbox = dovecotUser('console');
  const subject = `console-${mailbox.username}`;
  const shots = screenshotDir();
  let proc: Proc;
  let addresses: ServiceAddresses;
  let base = '';
  let browser: Browser;

  before(async () => {
    addresses = await serviceAddresses();
    // Small enough that an email to a hundred people is parked, large enough for the others.
    const env = { POSTBOTE_DATA_DIR: dataDir, ...addresses, LOG_LEVEL: 'info', TRIGGER_MAX_EVENT_BYTES: '4096' };
    proc = await startAllInOne(env);
    base = consoleUrlFrom(proc.out());
    addConsoleUser(env, 'ops', 'admin', 'ops-console-password');
    addConsoleUser(env, 'watcher', 'viewer', 'watcher-console-password');
    const box = await mailboxAs(mailbox);
    try {
      await box.mailboxCreate('INBOX/Incidents');
    } finally {
      await box.logout();
    }
    browser = await consoleBrowser();
  });

  after(async () => {
    await browser?.close();
    if (proc && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  });

  /** Saves the screen, and checks it needs no horizontal scrolling at 1280 px. */
  const shot = async (page: Page, name: string) => {
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    assert.ok((await page.evaluate<number>('document.documentElement.scrollWidth')) <= 1280, `${name} fits 1280 px`);
  };

  async function signIn(page: Page, name: string, password: string, lang: 'en' | 'de' = 'en'): Promise<void> {
    await page.goto(`${base}/connectors`);
    assert.match(page.url(), /\/sign-in\?next=%2Fconnectors$/);
    await page.getByLabel(lang === 'de' ? 'Benutzername' : 'User name').fill(name);
    await page.getByLabel(lang === 'de' ? 'Passwort' : 'Password').fill(password);
    await page.getByRole('button', { name: lang === 'de' ? 'Anmelden' : 'Sign in' }).click();
    await page.waitForURL(`${base}/connectors`);
  }

  it('signs in, creates an IMAP connector through the form, sees mail arrive, downloads it, edits, disables, signs out', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(`${base}/sign-in`);
    await shot(page, '01-sign-in');
    await signIn(page, 'ops', 'ops-console-password');
    await shot(page, '02-connectors-empty');

    await page.getByRole('link', { name: 'New IMAP connector' }).click();
    await page.getByLabel('Name', { exact: true }).fill('Incidents');
    await page.getByLabel('Server').fill(DOVECOT.host);
    await page.getByLabel('Port').fill('99999');
    await page.getByLabel('Trusted CA').fill(DOVECOT.caPem());
    await page.getByLabel('Username').fill(mailbox.username);
    await page.getByLabel('Password', { exact: true }).fill(mailbox.password);
    await page.getByLabel('Workflow').fill('wf-incidents');
    // Fields of the other login type are hidden; MOVE's target only with MOVE.
    assert.equal(await page.getByLabel('OAuth2 client ID').isVisible(), false);
    assert.equal(await page.getByLabel('Move to').isVisible(), false);
    assert.equal(await page.getByLabel('Proxy password').isVisible(), false, 'no proxy, no proxy password');
    await page.getByLabel('Proxy', { exact: true }).fill('socks5://127.0.0.1:1080');
    assert.equal(await page.getByLabel('Proxy password').isVisible(), true);
    await page.getByLabel('Proxy', { exact: true }).fill('');
    await page.getByLabel('Security').selectOption('NONE');
    assert.equal(await page.locator('#security-none-warning').isVisible(), true, 'NONE is warned against');
    await page.getByLabel('Security').selectOption('SSL');
    await page.getByRole('button', { name: 'Create connector' }).click();
    // One invalid field: the API's message at the field, the rest kept.
    await assert.doesNotReject(page.locator('#f-port-error').waitFor());
    assert.equal(await page.locator('#f-port-error').textContent(), 'must be a whole number from 1 to 65,535');
    assert.equal(await page.getByLabel('Port').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Incidents');
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '', 'the password is never sent back');
    assert.equal(await page.locator('#f-password-error').textContent(), 'Enter it again: a password is never sent back to the browser.', 'and the form says so');
    await shot(page, '03-form-error-at-field');

    await page.getByLabel('Port').fill(String(DOVECOT.imaps));
    await page.getByLabel('Password', { exact: true }).fill(mailbox.password);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('The connection works.').waitFor();
    const steps = await page.locator('#test-result table.steps tr td:first-child').allTextContents();
    for (const step of ['TCP', 'TLS', 'LOGIN', 'FOLDER']) assert.ok(steps.includes(step), `step ${step} in ${steps.join(', ')}`);

    await page.locator('[data-field=folder] button[data-action=folders]').click();
    const picker = page.getByRole('combobox', { name: 'Folders on the server' });
    await picker.waitFor();
    assert.ok((await picker.locator('option').allTextContents()).includes('INBOX/Incidents'));
    await picker.selectOption('INBOX/Incidents');
    assert.equal(await page.getByLabel('Folder', { exact: true }).inputValue(), 'INBOX/Incidents');
    await shot(page, '04-form-tested-folder-picked');

    await page.getByRole('button', { name: 'Create connector' }).click();
    await page.getByText('Connector created.').waitFor();
    const connectorUrl = page.url().replace(/\?.*$/, '');
    await shot(page, '05-connector-created');

    const mail = testMail(subject, 'Outage in data centre 7');
    const box = await mailboxAs(mailbox);
    try {
      await box.append('INBOX/Incidents', mail);
    } finally {
      await box.logout();
    }
    await page.getByRole('link', { name: 'Stored emails' }).click();
    await eventually(
      async () => {
        await page.reload();
        return page.getByRole('link', { name: subject }).isVisible();
      },
      20_000,
      'the delivered email appears',
    );
    await shot(page, '06-stored-emails');

    await page.goto(`${connectorUrl}/log?level=DEBUG`);
    assert.ok((await page.locator('main table tbody tr').count()) > 0, 'the log has entries');
    await shot(page, '07-connector-log');

    await page.goto(`${connectorUrl}/emails`);
    await page.getByRole('link', { name: subject }).click();
    await page.getByText('Outage in data centre 7').waitFor();
    // Its workflow event, as the trigger service left it (the embedded default publishes within a second).
    await eventually(
      async () => {
        await page.reload();
        return /published on the topic \d{4}-\d{2}-\d{2}/.test((await page.locator('dl.meta').textContent()) ?? '');
      },
      10_000,
      'the event is published',
    );
    await shot(page, '08-email');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download .eml' }).click()]);
    const saved = readFileSync((await download.path()) ?? '');
    const server = await mailboxAs(mailbox);
    try {
      await server.mailboxOpen('INBOX/Incidents');
      const onServer = await server.fetchOne('1', { source: true });
      assert.ok(onServer && onServer.source, 'the server has the message');
      assert.ok(saved.equals(onServer.source), 'the .eml is byte for byte the server\'s message');
    } finally {
      await server.logout();
    }
    assert.equal(download.suggestedFilename(), `${new Date().toISOString().slice(0, 10)} ${subject}.eml`, 'named by its day and subject');

    await page.goto(connectorUrl);
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByLabel('Interval').fill('120');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Changes saved.').waitFor();
    assert.ok((await page.locator('table').last().textContent())?.includes('120 seconds'));
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Connector disabled.').waitFor();
    assert.equal(await page.locator('dl.meta .state').textContent(), 'disabled');
    assert.equal(await page.locator('dl.meta .state').getAttribute('data-state'), 'DISABLED');
    await shot(page, '09-connector-disabled');

    await page.goto(`${base}/fleet`);
    await shot(page, '10-fetchers');
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Console users' }).waitFor();
    await shot(page, '13-users');
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByText('CONNECTOR_UPDATED').first().waitFor();
    await shot(page, '14-audit-log');
    await page.goto(`${base}/connectors`);
    await shot(page, '11-connectors');

    // A change without the page's CSRF token is refused, even from the signed-in browser.
    const status = await page.evaluate(async (url) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'enabled=true' })).status, `${connectorUrl}/enabled`);
    assert.equal(status, 403);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.goto(connectorUrl);
    assert.match(page.url(), /\/sign-in\?next=/, 'signed out: back to sign-in');
    await context.close();
  });

  it('a viewer sees connectors but cannot edit', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, 'watcher', 'watcher-console-password');
    await page.getByRole('link', { name: 'Incidents' }).click();
    assert.equal(await page.getByRole('link', { name: 'Edit' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /Disable|Enable/ }).count(), 0);
    const edit = await page.goto(`${page.url()}/edit`);
    assert.equal(edit?.status(), 403);
    await page.getByText('may look at connectors but not change them').waitFor();
    await shot(page, '12-viewer-refused');
    await context.close();
  });

  /**
   * Words (runs without spaces) a table shows split over two lines, and one-line (nowrap) cells
   * that are not: read from the boxes the browser laid out (a word's range has one line box).
   */
  const BROKEN_WORDS = `(() => {
    const out = [];
    const lines = (r) => new Set([...r.getClientRects()].filter((x) => x.width > 0).map((x) => Math.round(x.top))).size;
    for (const cell of document.querySelectorAll('main table td, main table th')) {
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        // Pieces between spaces and after hyphens: a line may end after a hyphen, never inside a piece.
        for (const m of (n.textContent || '').matchAll(/[^\\s-]+-?/g)) {
          const r = document.createRange();
          r.setStart(n, m.index);
          r.setEnd(n, m.index + m[0].length);
          if (lines(r) > 1) out.push(m[0]);
        }
      }
      if (cell.classList.contains('nowrap')) {
        const r = document.createRange();
        r.selectNodeContents(cell);
        if (lines(r) > 1) out.push('[' + (cell.textContent || '').trim() + ']');
      }
    }
    return out;
  })()`;
  const brokenWords = (page: Page) => page.evaluate<string[]>(BROKEN_WORDS);

  it('lists keep every word whole at 1280 and 800 px, in German and English', async () => {
    for (const locale of ['en-GB', 'de-DE']) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale });
      const page = await context.newPage();
      await signIn(page, 'ops', 'ops-console-password', locale.startsWith('de') ? 'de' : 'en');
      const connector = (await page.locator('main table a').first().getAttribute('href')) ?? '';
      for (const width of [1280, 800]) {
        await page.setViewportSize({ width, height: 900 });
        for (const path of ['/connectors', `${connector}/emails`, `${connector}/log?level=DEBUG`, '/events/parked', '/audit', '/users', '/fleet']) {
          await page.goto(`${base}${path}`);
          assert.deepEqual(await brokenWords(page), [], `${path} at ${width} px (${locale})`);
        }
      }
      await context.close();
    }
  });

  it('speaks German to a German browser: labels, choices, an error at its field; the switch changes the language and keeps it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' });
    const page = await context.newPage();
    await page.goto(`${base}/sign-in`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'de');
    await shot(page, 'de-01-sign-in');
    await signIn(page, 'ops', 'ops-console-password', 'de');
    await shot(page, 'de-02-connectors');
    await page.getByRole('link', { name: 'Neuer IMAP-Connector' }).click();
    await page.getByRole('group', { name: 'Anmeldung am Postfach' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Störungen');
    await page.getByLabel('Server').fill(DOVECOT.host);
    await page.getByLabel('Benutzername').fill(mailbox.username);
    await page.getByLabel('Passwort', { exact: true }).fill(mailbox.password);
    await page.getByLabel('Port').fill(String(DOVECOT.imaps));
    // Without the test server's CA the TLS step fails, and the result points to the field that helps…
    await page.getByRole('button', { name: 'Verbindung testen' }).click();
    await page.getByText('Die Verbindung ist fehlgeschlagen.').waitFor();
    await page.getByText(/Dem Zertifikat des Servers wird nicht vertraut.*„Vertrauenswürdige CA“/).waitFor();
    // …which takes the CA from a PEM file (read into the box by the script, nothing uploaded).
    await page.locator('[data-field=trusted_ca_pem] input[type=file]').setInputFiles(DOVECOT.caFile);
    await eventually(async () => (await page.getByLabel('Vertrauenswürdige CA').inputValue()).includes('BEGIN CERTIFICATE'), 5_000, 'the PEM read into the box');
    await page.getByRole('button', { name: 'Verbindung testen' }).click();
    await page.getByText('Die Verbindung funktioniert.').waitFor();
    await page.getByLabel('Abrufintervall').fill('5');
    await page.getByLabel('Workflow').fill('wf-stoerungen');
    assert.equal(await page.getByLabel('Verarbeitungsstrategie').locator('option:checked').textContent(), 'Als gelesen markieren');
    assert.ok(await page.getByLabel('Aufbewahrungsdauer').isVisible());
    assert.match((await page.locator('#f-poll_interval_seconds-hint').textContent()) ?? '', /Zeit zwischen zwei Abrufen \(10–86\.400 Sekunden, Standard 60 Sekunden\)/);
    await page.getByRole('button', { name: 'Connector anlegen' }).click();
    await page.locator('#f-poll_interval_seconds-error').waitFor();
    assert.equal(await page.locator('#f-poll_interval_seconds-error').textContent(), 'muss eine ganze Zahl von 10 bis 86.400 sein');
    assert.equal(await page.getByRole('alert').first().textContent(), 'Bitte korrigieren Sie die markierten Felder.');
    await shot(page, 'de-03-form-error-at-field');
    // The switch: English from now on, though the browser still asks for German.
    await page.getByRole('link', { name: 'English' }).click();
    await page.getByRole('link', { name: 'New IMAP connector' }).waitFor();
    await page.goto(`${base}/fleet`);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await page.getByRole('link', { name: 'Deutsch' }).click();
    assert.equal(await page.locator('html').getAttribute('lang'), 'de');
    await context.close();
  });
  it('keeps a workspace to its members: another workspace\'s connector, email, .eml and log are not found by editing the URL; a person in two switches', async () => {
    const env = { POSTBOTE_DATA_DIR: dataDir, ...addresses };
    for (const w of ['acme', 'globex']) assert.equal(runCli(env, ['workspaces', 'create', w, '--name', w.toUpperCase()]).code, 0);
    // globex has a connector with a stored email; alice is acme's admin; bob is in both.
    const theirs = dovecotUser('globex');
    const box = await mailboxAs(theirs);
    await box.append('INBOX', testMail(`globex-${theirs.username}`));
    await box.logout();
    const made = runCli(env, ['--json', '--workspace', 'globex', 'connector', 'create', '--name', 'Globex mail', '--protocol', 'imap', '--host', DOVECOT.host, '--port', String(DOVECOT.imaps), '--security', 'ssl', '--trusted-ca', DOVECOT.caFile, '--username', theirs.username, '--workflow', 'wf-globex', '--interval', '10', '--password-stdin'], theirs.password);
    assert.equal(made.code, 0, made.err);
    const connectorId = (JSON.parse(made.out) as { connector: { id: string } }).connector.id;
    let emailId = '';
    await eventually(() => {
      const listed = runCli(env, ['--json', '--workspace', 'globex', 'emails', 'list', connectorId]);
      emailId = listed.code === 0 ? ((JSON.parse(listed.out) as { emails: Array<{ id: string }> }).emails[0]?.id ?? '') : '';
      return emailId !== '';
    }, 60_000, 'globex\'s email stored');
    assert.equal(runCli(env, ['--workspace', 'acme', 'console', 'add-user', 'alice', '--role', 'admin', '--password-stdin'], 'alice-console-password').code, 0);
    assert.equal(runCli(env, ['--workspace', 'acme', 'console', 'add-user', 'bob', '--role', 'viewer', '--password-stdin'], 'bob-console-password').code, 0);
    assert.equal(runCli(env, ['--workspace', 'globex', 'console', 'add-user', 'bob', '--role', 'operator', '--existing']).code, 0);

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    await signIn(page, 'alice', 'alice-console-password');
    assert.equal(await page.locator('.workspace').getAttribute('data-workspace'), 'acme');
    assert.equal(await page.getByRole('link', { name: 'Globex mail' }).count(), 0, 'not in acme\'s list');
    const missing = '00000000-0000-4000-8000-000000000000';
    const seen = async (path: string) => {
      const res = await page.goto(`${base}${path}`);
      return { status: res?.status(), text: ((await page.locator('main').textContent()) ?? '').replaceAll(connectorId, 'ID').replaceAll(emailId, 'ID').replaceAll(missing, 'ID') };
    };
    for (const path of [`/connectors/${connectorId}`, `/connectors/${connectorId}/edit`, `/connectors/${connectorId}/log`, `/connectors/${connectorId}/emails`, `/emails/${emailId}`, `/emails/${emailId}/raw`]) {
      const got = await seen(path);
      assert.equal(got.status, 404, path);
      assert.deepEqual(got, await seen(path.replace(connectorId, missing).replace(emailId, missing)), `${path} answers as a missing id does`);
    }
    await shot(page, '13-other-workspace-not-found');
    await context.close();

    const bobs = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const bob = await bobs.newPage();
    await signIn(bob, 'bob', 'bob-console-password');
    assert.equal(await bob.locator('.workspace').getAttribute('data-workspace'), 'acme');
    assert.equal(await bob.getByRole('link', { name: 'Globex mail' }).count(), 0);
    await bob.getByLabel('Workspace').selectOption('globex');
    await bob.getByRole('button', { name: 'Switch' }).click();
    await bob.waitForURL(`${base}/connectors`);
    assert.equal(await bob.locator('.workspace').getAttribute('data-workspace'), 'globex');
    await bob.getByRole('link', { name: 'Globex mail' }).click();
    await bob.getByText('wf-globex').first().waitFor();
    await shot(bob, '14-switched-workspace');
    assert.equal((await bob.goto(`${base}/emails/${emailId}`))?.status(), 200, 'globex\'s email, now that bob works in globex');
    await bob.getByLabel('Workspace').selectOption('acme');
    await bob.getByRole('button', { name: 'Switch' }).click();
    await bob.waitForURL(`${base}/connectors`);
    assert.equal((await bob.goto(`${base}/emails/${emailId}`))?.status(), 404, 'and not from acme');
    await bobs.close();
  });
  it('lists an event parked for its size with a retry for operators, not for viewers', async () => {
    const env = { POSTBOTE_DATA_DIR: dataDir, ...addresses };
    const user = dovecotUser('parked');
    const to = Array.from({ length: 100 }, (_, i) => `recipient-number-${String(i).padStart(3, '0')}-of-a-long-list@example.test`).join(',\r\n ');
    const box = await mailboxAs(user);
    await box.append('INBOX', Buffer.from(`From: sender@example.test\r\nTo: ${to}\r\nMessage-ID: <wide-${user.username}@example.test>\r\nSubject: to a hundred\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nhello\r\n`));
    await box.logout();
    const made = runCli(env, ['--json', 'connector', 'create', '--name', 'Wide mail', '--protocol', 'imap', '--host', DOVECOT.host, '--port', String(DOVECOT.imaps), '--security', 'ssl', '--trusted-ca', DOVECOT.caFile, '--username', user.username, '--workflow', 'wf-wide', '--interval', '10', '--password-stdin'], user.password);
    assert.equal(made.code, 0, made.err);
    let eventId = '';
    await eventually(() => {
      const listed = runCli(env, ['--json', 'events', 'parked']);
      eventId = listed.code === 0 ? ((JSON.parse(listed.out) as Array<{ eventId: string }>)[0]?.eventId ?? '') : '';
      return eventId !== '';
    }, 60_000, 'the wide email\'s event parked');

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, 'ops', 'ops-console-password');
    await page.getByRole('link', { name: 'Parked events' }).click();
    const row = page.locator(`tr[data-event="${eventId}"]`);
    await row.getByText(/TRIGGER_MAX_EVENT_BYTES is 4096/).waitFor();
    await shot(page, '15-parked-events');
    await row.getByRole('button', { name: `Retry event ${eventId}` }).click();
    await page.getByText('The event is back in line').waitFor();
    // Still larger than the limit: the relay parks it again rather than holding the line.
    await eventually(async () => (await page.reload(), (await page.locator(`tr[data-event="${eventId}"]`).count()) === 1), 30_000, 'parked again');
    await context.close();

    const viewer = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const watcher = await viewer.newPage();
    await signIn(watcher, 'watcher', 'watcher-console-password');
    await watcher.goto(`${base}/events/parked`);
    await watcher.locator(`tr[data-event="${eventId}"]`).waitFor();
    assert.equal(await watcher.getByRole('button', { name: /Retry/ }).count(), 0);
    await viewer.close();
  });
});
