import { FIELDS, SECRET_FIELDS, SETTING_KEYS, formatValue, type ConnectorRecord, type FieldInfo } from '@postbote/connector-model';
import type { ConnectorStatus, TestConnectionResponse } from '@postbote/proto';
import { ConnectorState, enumKey } from '@postbote/proto';
import { connectorFields, type FormState } from './connector-form';
import { html, type Html } from './html';
import { can, notice, page, postForm, when } from './layout';
import type { Session } from './sessions';

export interface Running {
  readonly status: ConnectorStatus;
  readonly fetcher: string;
}

/** The state a person reads: the fetcher's, or why no fetcher reports it. */
export function stateOf(c: ConnectorRecord, r: Running | undefined): string {
  if (!c.enabled) return 'DISABLED';
  return r ? enumKey(ConnectorState, r.status.state) : 'NOT_RUNNING';
}

function modeOf(r: Running | undefined): string {
  return r ? (r.status.push ? 'push' : 'poll') : '';
}

export function connectorList(session: Session, connectors: readonly ConnectorRecord[], running: ReadonlyMap<string, Running>, fleetKnown: boolean): Html {
  const rows = connectors.map((c) => {
    const r = running.get(c.id);
    const state = stateOf(c, r);
    return html`<tr>
  <td><a href="/connectors/${c.id}">${c.name}</a></td><td>${c.protocol}</td><td>${c.host}:${c.port}</td>
  <td><span class="state ${state}">${state}</span> <span class="muted">${modeOf(r)}</span></td>
  <td>${when(r?.status.lastSuccessAt) || html`<span class="muted">never</span>`}</td>
  <td>${r?.status.lastError ? html`${r.status.lastError} <span class="muted">${when(r.status.lastErrorAt)}</span>` : ''}</td>
</tr>`;
  });
  const create = can(session, 'ConnectorService/CreateConnector')
    ? html`<div class="actions"><a class="button" href="/connectors/new?protocol=IMAP">New IMAP connector</a><a class="button" href="/connectors/new?protocol=POP3">New POP3 connector</a></div>`
    : '';
  return page(
    session,
    'Connectors',
    html`<h1>Connectors</h1>${create}
${fleetKnown ? '' : notice('warn', 'No fetcher answered: states are unknown right now.')}
${
  connectors.length
    ? html`<table><caption class="skip">Connectors</caption><thead><tr><th scope="col">Name</th><th scope="col">Protocol</th><th scope="col">Server</th><th scope="col">State</th><th scope="col">Last success</th><th scope="col">Last error</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>No connectors yet.</p>`
}`,
  );
}

function settingsTable(c: ConnectorRecord): Html {
  const rows = SETTING_KEYS.filter((k) => c[k] !== null && k !== 'name').map((k) => {
    const f: FieldInfo = FIELDS[k];
    const v = c[k];
    const shown = f.kind === 'pem' ? 'set' : formatValue(f, v as string | number | boolean, 'en');
    return html`<tr><th scope="row">${f.label.en}</th><td>${shown}</td></tr>`;
  });
  const secrets = c.secretsSet.map((k) => html`<tr><th scope="row">${SECRET_FIELDS[k].label.en}</th><td>set</td></tr>`);
  return html`<table class="settings-view"><tbody>${rows}${secrets}</tbody></table>`;
}

export function connectorDetail(session: Session, c: ConnectorRecord, r: Running | undefined, flash: string): Html {
  const state = stateOf(c, r);
  const actions: Html[] = [];
  if (can(session, 'ConnectorService/UpdateConnector')) actions.push(html`<a class="button" href="/connectors/${c.id}/edit">Edit</a>`);
  if (can(session, 'ConnectorService/SetConnectorEnabled')) {
    actions.push(postForm(session, `/connectors/${c.id}/enabled`, html`<input type="hidden" name="enabled" value="${c.enabled ? 'false' : 'true'}"><button type="submit" class="secondary">${c.enabled ? 'Disable' : 'Enable'}</button>`));
  }
  if (can(session, 'ConnectorService/TestConnection')) actions.push(postForm(session, `/connectors/${c.id}/test`, html`<button type="submit" class="secondary">Test connection</button>`));
  if (can(session, 'ConnectorService/DeleteConnector')) actions.push(html`<a class="button secondary" href="/connectors/${c.id}/delete">Delete…</a>`);
  return page(
    session,
    c.name,
    html`<h1>${c.name}</h1>
${flash ? notice('good', flash) : ''}
${c.security === 'NONE' ? notice('warn', 'Security is NONE: the password and every email cross the network unencrypted. Use SSL or TLS.') : ''}
<div class="actions">${actions}<a href="/connectors/${c.id}/log">Log</a><a href="/connectors/${c.id}/emails">Stored emails</a></div>
<h2>Status</h2>
<dl class="meta">
<dt>State</dt><dd><span class="state ${state}">${state}</span> ${modeOf(r) ? html`<span class="muted">(${modeOf(r) === 'push' ? 'push, IMAP IDLE' : 'polling'})</span>` : ''}</dd>
<dt>Last success</dt><dd>${when(r?.status.lastSuccessAt) || 'never'}</dd>
<dt>Last error</dt><dd>${r?.status.lastError ? `${when(r.status.lastErrorAt)} ${r.status.lastError}` : '—'}</dd>
<dt>Backlog</dt><dd>${r ? String(r.status.backlog) : '—'}</dd>
<dt>Fetcher</dt><dd>${r?.fetcher ?? '—'}</dd>
<dt>Revision</dt><dd>${c.revision}, changed ${when(c.updatedAt)}</dd>
</dl>
<h2>Settings</h2>
${settingsTable(c)}`,
  );
}

export function connectorFormPage(session: Session, s: FormState, testResult: TestConnectionResponse | null): Html {
  const editing = s.current;
  const action = editing ? `/connectors/${editing.id}` : '/connectors';
  const title = editing ? `Edit ${editing.name}` : `New ${s.protocol} connector`;
  const testAction = editing ? `/connectors/${editing.id}/test-form` : '/connectors/test-form';
  const folderAction = s.protocol === 'IMAP' ? (editing ? `/connectors/${editing.id}/folders` : '/connectors/folders') : null;
  return page(
    session,
    title,
    html`<h1>${title}</h1>
${s.errors.size ? notice('bad', 'Please correct the fields marked below.') : ''}
${postForm(
  session,
  action,
  html`${editing ? html`<input type="hidden" name="expected_revision" value="${editing.revision}">` : ''}
${connectorFields(s, folderAction)}
<div id="test-result" aria-live="polite">${testResult ? testSteps(testResult) : ''}</div>
<div class="actions"><button type="submit">${editing ? 'Save' : 'Create connector'}</button>
<button type="submit" class="secondary" data-action="test" formaction="${testAction}">Test connection</button>
<a href="${editing ? `/connectors/${editing.id}` : '/connectors'}">Cancel</a></div>`,
  html`class="settings" novalidate`,
)}`,
  );
}

export function testSteps(r: TestConnectionResponse): Html {
  return html`${notice(r.ok ? 'good' : 'bad', r.ok ? 'The connection works.' : 'The connection failed.')}
<table class="steps"><thead><tr><th scope="col">Step</th><th scope="col">Result</th><th scope="col">Time</th><th scope="col">Detail</th></tr></thead><tbody>${r.steps.map(
    (s) => html`<tr><td>${s.name}</td><td class="${s.ok ? 'ok' : 'failed'}">${s.ok ? 'ok' : 'failed'}</td><td>${s.durationMs} ms</td><td>${s.detail}</td></tr>`,
  )}</tbody></table>`;
}

export function testPage(session: Session, c: ConnectorRecord, r: TestConnectionResponse): Html {
  return page(session, `Test ${c.name}`, html`<h1>Connection test: ${c.name}</h1>${testSteps(r)}<p><a href="/connectors/${c.id}">Back to ${c.name}</a></p>`);
}

export function deletePage(session: Session, c: ConnectorRecord): Html {
  return page(
    session,
    `Delete ${c.name}`,
    html`<h1>Delete ${c.name}?</h1>
<p>The connector stops at once and is removed with its settings and password. Its stored emails stay downloadable until
their retention ends (${c.retentionDays} days after each was stored), unless you delete them now as well. Emails still on the
mail server are not touched.</p>
${postForm(
  session,
  `/connectors/${c.id}/delete`,
  html`<div class="field"><label for="purge">Delete stored emails now</label><div><input type="checkbox" id="purge" name="purge_emails_now"></div></div>
<div class="actions"><button type="submit" class="danger">Delete connector</button><a href="/connectors/${c.id}">Cancel</a></div>`,
)}`,
  );
}
