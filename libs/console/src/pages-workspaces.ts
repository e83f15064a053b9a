import { WorkspaceState, enumKey, type Workspace, type WorkspaceUsage } from '@postbote/proto';
import { html, type Html } from './html';
import { notice, page, postForm, when } from './layout';
import type { Session } from './sessions';

export interface WorkspaceForm {
  readonly id: string;
  readonly displayName: string;
  readonly maxConnectors: string;
  readonly errors: ReadonlyMap<string, string>;
}

export const EMPTY_WORKSPACE_FORM: WorkspaceForm = { id: '', displayName: '', maxConnectors: '0', errors: new Map() };

const limit = (n: number | undefined, unit = '') => (n ? `${n}${unit}` : 'no limit');
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const storedOf = (u: WorkspaceUsage | undefined, max: number | undefined) => (u ? `${mib(u.storedBytes)} in ${u.storedEmails} emails of ${max ? mib(max) : 'no limit'}` : 'unknown');

/** Every workspace of the installation (installation admins): state, connectors against the quota, and what they may do with each. */
export function workspacesPage(session: Session, workspaces: readonly Workspace[], usage: ReadonlyMap<string, WorkspaceUsage | undefined>, form: WorkspaceForm, flash: string): Html {
  const err = (f: string) => form.errors.get(f);
  const described = (f: string) => (err(f) ? html`aria-invalid="true" aria-describedby="w-${f}-error"` : html``);
  const error = (f: string) => (err(f) ? html`<span class="error" id="w-${f}-error">${err(f)}</span>` : '');
  const rows = workspaces.map((w) => {
    const state = enumKey(WorkspaceState, w.state);
    const q = w.quotas;
    const actions =
      w.state === WorkspaceState.SUSPENDED
        ? postForm(session, `/workspaces/${w.id}/resume`, html`<button type="submit" class="secondary" aria-label="Resume ${w.id}">Resume</button>`)
        : postForm(session, `/workspaces/${w.id}/suspend`, html`<input type="text" name="reason" aria-label="Reason to suspend ${w.id}" placeholder="reason" required maxlength="500"><button type="submit" class="secondary" aria-label="Suspend ${w.id}">Suspend</button>`);
    return html`<tr data-workspace="${w.id}">
  <td>${w.id}</td><td>${w.displayName}</td>
  <td><span class="state ${state}">${state}</span>${w.suspendedReason ? html` <span class="muted">${w.suspendedReason} (${when(w.suspendedAt)})</span>` : ''}</td>
  <td>${w.connectors} of ${limit(q?.maxConnectors)}</td>
  <td>${storedOf(usage.get(w.id), q?.maxStoredBytes)}</td>
  <td>interval ≥ ${limit(q?.minPollIntervalSeconds, ' s')}; ${limit(q?.maxConcurrentRuns)} runs at once; tests ${limit(q?.connectionTestsPerMinute, '/min')}</td>
  <td>${postForm(session, '/workspace', html`<input type="hidden" name="workspace" value="${w.id}"><button type="submit" class="secondary" aria-label="Work in ${w.id}">Open</button>`)}${actions}</td>
</tr>`;
  });
  return page(
    session,
    'Workspaces',
    html`<h1>Workspaces</h1>
${flash ? notice('good', flash) : ''}
<table><thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">State</th><th scope="col">Connectors</th><th scope="col">Stored mail</th><th scope="col">Limits</th><th scope="col"><span class="skip">Actions</span></th></tr></thead><tbody>${rows}</tbody></table>
<h2>New workspace</h2>
${postForm(
  session,
  '/workspaces',
  html`<div class="field"><label for="w-id">Id</label><div><input type="text" id="w-id" name="id" value="${form.id}" autocomplete="off" ${described('id')}></div><span class="hint">lower-case letters, digits and hyphens; never changes (it names the workspace's events)</span>${error('id')}</div>
<div class="field"><label for="w-name">Name</label><div><input type="text" id="w-name" name="display_name" value="${form.displayName}" ${described('display_name')}></div><span class="hint">the customer, as people read it</span>${error('display_name')}</div>
<div class="field"><label for="w-max">Most connectors</label><div><input type="number" id="w-max" name="max_connectors" min="0" value="${form.maxConnectors}" ${described('quotas.max_connectors')}></div><span class="hint">0: no limit; the other limits: <code>postbote workspaces update</code></span>${error('quotas.max_connectors')}</div>
<div class="actions"><button type="submit">Create workspace</button></div>`,
  html`class="panel"`,
)}`,
  );
}
