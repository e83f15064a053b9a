import { FIELDS, SECRET_FIELDS, SETTING_KEYS, formatValue, type ConnectorRecord, type FieldInfo } from '@postbote/connector-model';
import type { ConnectorStatus, TestConnectionResponse } from '@postbote/proto';
import { ConnectorState, enumKey } from '@postbote/proto';
import { connectorFields, type FormState } from './connector-form';
import { html, type Html } from './html';
import { number, when, type Viewer } from './i18n';
import { can, notice, page, postForm } from './layout';
import type { Session } from './sessions';

export interface Running {
  readonly status: ConnectorStatus;
  readonly fetcher: string;
}

/** The state's code (a CSS class, stable): the fetcher's, or why no fetcher reports it. */
export function stateOf(c: ConnectorRecord, r: Running | undefined): string {
  if (!c.enabled) return 'DISABLED';
  return r ? enumKey(ConnectorState, r.status.state) : 'NOT_RUNNING';
}

function stateBadge(v: Viewer, state: string): Html {
  return html`<span class="state ${state}" data-state="${state}">${v.t.states[state] ?? state}</span>`;
}

function modeOf(v: Viewer, r: Running | undefined): string {
  return r ? (r.status.push ? v.t.connectors.push : v.t.connectors.poll) : '';
}

export function connectorList(session: Session, connectors: readonly ConnectorRecord[], running: ReadonlyMap<string, Running>, fleetKnown: boolean): Html {
  const { t } = session;
  const rows = connectors.map((c) => {
    const r = running.get(c.id);
    return html`<tr>
  <td><a href="/connectors/${c.id}">${c.name}</a></td><td>${c.protocol}</td><td class="server">${c.host}:${c.port}</td>
  <td class="nowrap">${stateBadge(session, stateOf(c, r))} <span class="muted">${modeOf(session, r)}</span></td>
  <td class="nowrap">${when(session, r?.status.lastSuccessAt) || html`<span class="muted">${t.common.never}</span>`}</td>
  <td>${r?.status.lastError ? html`${r.status.lastError} <span class="muted nowrap">${when(session, r.status.lastErrorAt)}</span>` : ''}</td>
</tr>`;
  });
  const create = can(session, 'ConnectorService/CreateConnector')
    ? html`<div class="actions"><a class="button" href="/connectors/new?protocol=IMAP">${t.connectors.newImap}</a><a class="button" href="/connectors/new?protocol=POP3">${t.connectors.newPop3}</a></div>`
    : '';
  const c = t.connectors;
  return page(
    session,
    c.title,
    html`<h1>${c.title}</h1>${create}
${fleetKnown ? '' : notice('warn', c.noFetcher)}
${
  connectors.length
    ? html`<table class="list"><caption class="skip">${c.title}</caption><thead><tr><th scope="col">${c.name}</th><th scope="col">${c.protocol}</th><th scope="col">${c.server}</th><th scope="col">${c.state}</th><th scope="col">${c.lastSuccess}</th><th scope="col">${c.lastError}</th></tr></thead><tbody>${rows}</tbody></table>`
    : html`<p>${c.none}</p>`
}`,
  );
}

function settingsTable(v: Viewer, c: ConnectorRecord): Html {
  const rows = SETTING_KEYS.filter((k) => c[k] !== null && k !== 'name').map((k) => {
    const f: FieldInfo = FIELDS[k];
    const value = c[k];
    const shown = f.kind === 'pem' ? v.t.common.set : formatValue(f, value as string | number | boolean, v.locale);
    return html`<tr><th scope="row">${f.label[v.locale]}</th><td>${shown}</td></tr>`;
  });
  const secrets = c.secretsSet.map((k) => html`<tr><th scope="row">${SECRET_FIELDS[k].label[v.locale]}</th><td>${v.t.common.set}</td></tr>`);
  return html`<table class="settings-view"><tbody>${rows}${secrets}</tbody></table>`;
}

const FLASH = ['created', 'saved', 'enabled', 'disabled'] as const;

/** The confirmation a redirect asked for (`?done=saved`), in the viewer's language. */
export function detailFlash(v: Viewer, done: string | undefined): string {
  return (FLASH as readonly string[]).includes(done ?? '') ? v.t.detail[done as (typeof FLASH)[number]] : '';
}

export function connectorDetail(session: Session, c: ConnectorRecord, r: Running | undefined, flash: string): Html {
  const { t } = session;
  const d = t.detail;
  const actions: Html[] = [];
  if (can(session, 'ConnectorService/UpdateConnector')) actions.push(html`<a class="button" href="/connectors/${c.id}/edit">${d.edit}</a>`);
  if (can(session, 'ConnectorService/SetConnectorEnabled')) {
    actions.push(postForm(session, `/connectors/${c.id}/enabled`, html`<input type="hidden" name="enabled" value="${c.enabled ? 'false' : 'true'}"><button type="submit" class="secondary">${c.enabled ? d.disable : d.enable}</button>`));
  }
  if (can(session, 'ConnectorService/TestConnection')) actions.push(postForm(session, `/connectors/${c.id}/test`, html`<button type="submit" class="secondary">${d.test}</button>`));
  if (can(session, 'ConnectorService/DeleteConnector')) actions.push(html`<a class="button secondary" href="/connectors/${c.id}/delete">${d.delete}</a>`);
  const mode = r ? (r.status.push ? t.connectors.pushLong : t.connectors.pollLong) : '';
  return page(
    session,
    c.name,
    html`<h1>${c.name}</h1>
${flash ? notice('good', flash) : ''}
${c.security === 'NONE' ? notice('warn', d.insecure) : ''}
<div class="actions">${actions}<a href="/connectors/${c.id}/log">${d.log}</a><a href="/connectors/${c.id}/emails">${d.emails}</a></div>
<h2>${d.status}</h2>
<dl class="meta">
<dt>${t.connectors.state}</dt><dd>${stateBadge(session, stateOf(c, r))} ${mode ? html`<span class="muted">(${mode})</span>` : ''}</dd>
<dt>${t.connectors.lastSuccess}</dt><dd>${when(session, r?.status.lastSuccessAt) || t.common.never}</dd>
<dt>${t.connectors.lastError}</dt><dd>${r?.status.lastError ? `${when(session, r.status.lastErrorAt)} ${r.status.lastError}` : t.common.dash}</dd>
<dt>${d.backlog}</dt><dd>${r ? number(session, r.status.backlog) : t.common.dash}</dd>
<dt>${d.fetcher}</dt><dd>${r?.fetcher ?? t.common.dash}</dd>
<dt>${d.revision}</dt><dd>${d.revisionAt(c.revision, when(session, c.updatedAt))}</dd>
</dl>
<h2>${d.settings}</h2>
${settingsTable(session, c)}`,
  );
}

export function connectorFormPage(session: Session, s: FormState, testResult: TestConnectionResponse | null): Html {
  const { t } = session;
  const editing = s.current;
  const action = editing ? `/connectors/${editing.id}` : '/connectors';
  const title = editing ? t.form.editTitle(editing.name) : t.form.newTitle(s.protocol);
  const testAction = editing ? `/connectors/${editing.id}/test-form` : '/connectors/test-form';
  const folderAction = s.protocol === 'IMAP' ? (editing ? `/connectors/${editing.id}/folders` : '/connectors/folders') : null;
  // What the script says while it works, in the page's language.
  const scriptTexts = html`class="settings" novalidate data-t-testing="${t.form.testing}" data-t-test-failed="${t.form.testFailed}" data-t-reading="${t.form.readingFolders}" data-t-folders="${t.form.foldersLabel}" data-t-folders-failed="${t.form.foldersFailed}"`;
  return page(
    session,
    title,
    html`<h1>${title}</h1>
${s.errors.size ? notice('bad', t.form.fix) : ''}
${postForm(
  session,
  action,
  html`${editing ? html`<input type="hidden" name="expected_revision" value="${editing.revision}">` : ''}
${connectorFields(session, s, folderAction)}
<div id="test-result" aria-live="polite">${testResult ? testSteps(session, testResult) : ''}</div>
<div class="actions"><button type="submit">${editing ? t.form.save : t.form.create}</button>
<button type="submit" class="secondary" data-action="test" formaction="${testAction}">${t.form.test}</button>
<a href="${editing ? `/connectors/${editing.id}` : '/connectors'}">${t.common.cancel}</a></div>`,
  scriptTexts,
)}`,
  );
}

/** A failed TLS step whose cause is an untrusted certificate: the trusted CA setting is the way out. */
const UNTRUSTED = /self[- ]signed|unable to (get|verify)|certificate (chain|verify)|UNABLE_TO_VERIFY|DEPTH_ZERO_SELF_SIGNED|SELF_SIGNED_CERT/i;

/** A connection test's steps, each with its own time. Also the fragment the form's script shows. */
export function testSteps(v: Viewer, r: TestConnectionResponse): Html {
  const { t } = v;
  const untrusted = r.steps.some((s) => !s.ok && (s.name === 'TLS' || s.name === 'STARTTLS' || s.name === 'STLS') && UNTRUSTED.test(s.detail));
  return html`${notice(r.ok ? 'good' : 'bad', r.ok ? t.test.works : t.test.fails)}
${untrusted ? notice('warn', html`${t.test.selfSigned}`) : ''}
<table class="steps"><thead><tr><th scope="col">${t.test.step}</th><th scope="col">${t.test.result}</th><th scope="col">${t.test.time}</th><th scope="col">${t.test.detail}</th></tr></thead><tbody>${r.steps.map(
    (s) =>
      html`<tr><td>${s.name}</td><td class="${s.ok ? 'ok' : 'failed'}">${s.ok ? t.test.ok : t.test.failed}</td><td class="nowrap">${number(v, s.durationMs)} ms</td><td>${s.detail}</td></tr>`,
  )}</tbody></table>`;
}

export function testPage(session: Session, c: ConnectorRecord, r: TestConnectionResponse): Html {
  const { t } = session;
  return page(session, t.test.title(c.name), html`<h1>${t.test.heading(c.name)}</h1>${testSteps(session, r)}<p><a href="/connectors/${c.id}">${t.test.back(c.name)}</a></p>`);
}

export function deletePage(session: Session, c: ConnectorRecord): Html {
  const { t } = session;
  return page(
    session,
    t.del.title(c.name),
    html`<h1>${t.del.heading(c.name)}</h1>
<p>${t.del.explain(c.retentionDays)}</p>
${postForm(
  session,
  `/connectors/${c.id}/delete`,
  html`<div class="field"><label for="purge">${t.del.purge}</label><div><input type="checkbox" id="purge" name="purge_emails_now"></div></div>
<div class="actions"><button type="submit" class="danger">${t.del.submit}</button><a href="/connectors/${c.id}">${t.common.cancel}</a></div>`,
)}`,
  );
}
