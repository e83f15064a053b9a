import { WorkspaceState, enumKey, type Workspace, type WorkspaceUsage } from '@postbote/proto';
import { html, type Html } from './html';
import { number, size, when, type Viewer } from './i18n';
import { notice, page, postForm } from './layout';
import type { Session } from './sessions';

export interface WorkspaceForm {
  readonly id: string;
  readonly displayName: string;
  readonly maxConnectors: string;
  readonly errors: ReadonlyMap<string, string>;
}

export const EMPTY_WORKSPACE_FORM: WorkspaceForm = { id: '', displayName: '', maxConnectors: '0', errors: new Map() };

const limit = (v: Viewer, n: number | undefined, unit = '') => (n ? `${number(v, n)}${unit}` : v.t.common.noLimit);
const storedOf = (v: Viewer, u: WorkspaceUsage | undefined, max: number | undefined) =>
  u ? v.t.workspaces.storedOf(size(v, u.storedBytes), u.storedEmails, max ? size(v, max) : v.t.common.noLimit) : v.t.workspaces.unknown;

/** Every workspace of the installation (installation admins): state, connectors against the quota, and what they may do with each. */
export function workspacesPage(session: Session, workspaces: readonly Workspace[], usage: ReadonlyMap<string, WorkspaceUsage | undefined>, form: WorkspaceForm, flash: string): Html {
  const t = session.t.workspaces;
  const err = (f: string) => form.errors.get(f);
  const described = (f: string) => (err(f) ? html`aria-invalid="true" aria-describedby="w-${f}-error"` : html``);
  const error = (f: string) => (err(f) ? html`<span class="error" id="w-${f}-error">${err(f)}</span>` : '');
  const rows = workspaces.map((w) => {
    const state = enumKey(WorkspaceState, w.state);
    const q = w.quotas;
    const actions =
      w.state === WorkspaceState.SUSPENDED
        ? postForm(session, `/workspaces/${w.id}/resume`, html`<button type="submit" class="secondary" aria-label="${t.resumeOne(w.id)}">${t.resume}</button>`)
        : postForm(
            session,
            `/workspaces/${w.id}/suspend`,
            html`<input type="text" name="reason" aria-label="${t.reasonFor(w.id)}" placeholder="${t.reason}" required maxlength="500"><button type="submit" class="secondary" aria-label="${t.suspendOne(w.id)}">${t.suspend}</button>`,
          );
    return html`<tr data-workspace="${w.id}">
  <td>${w.id}</td><td>${w.displayName}</td>
  <td><span class="state ${state}">${session.t.states[state] ?? state}</span>${w.suspendedReason ? html` <span class="muted">${w.suspendedReason} (${when(session, w.suspendedAt)})</span>` : ''}</td>
  <td>${t.of(w.connectors, limit(session, q?.maxConnectors))}</td>
  <td>${storedOf(session, usage.get(w.id), q?.maxStoredBytes)}</td>
  <td>${t.limitsText(limit(session, q?.minPollIntervalSeconds, ' s'), limit(session, q?.maxConcurrentRuns), limit(session, q?.connectionTestsPerMinute, t.perMinute))}</td>
  <td>${postForm(session, '/workspace', html`<input type="hidden" name="workspace" value="${w.id}"><button type="submit" class="secondary" aria-label="${t.openOne(w.id)}">${t.open}</button>`)}${actions}</td>
</tr>`;
  });
  return page(
    session,
    t.title,
    html`<h1>${t.title}</h1>
${flash ? notice('good', flash) : ''}
<table class="list"><thead><tr><th scope="col">${t.id}</th><th scope="col">${t.name}</th><th scope="col">${t.state}</th><th scope="col">${t.connectors}</th><th scope="col">${t.stored}</th><th scope="col">${t.limits}</th><th scope="col"><span class="skip">${t.actions}</span></th></tr></thead><tbody>${rows}</tbody></table>
<h2>${t.add}</h2>
${postForm(
  session,
  '/workspaces',
  html`<div class="field"><label for="w-id">${t.id}</label><div><input type="text" id="w-id" name="id" value="${form.id}" autocomplete="off" ${described('id')}></div><span class="hint">${t.idHint}</span>${error('id')}</div>
<div class="field"><label for="w-name">${t.name}</label><div><input type="text" id="w-name" name="display_name" value="${form.displayName}" ${described('display_name')}></div><span class="hint">${t.nameHint}</span>${error('display_name')}</div>
<div class="field"><label for="w-max">${t.max}</label><div><input type="number" id="w-max" name="max_connectors" min="0" value="${form.maxConnectors}" ${described('quotas.max_connectors')}></div><span class="hint">${t.maxHint} <code>postbote workspaces update</code></span>${error('quotas.max_connectors')}</div>
<div class="actions"><button type="submit">${t.submit}</button></div>`,
  html`class="panel"`,
)}`,
  );
}
