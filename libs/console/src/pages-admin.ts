import { CONSOLE_ROLES, INSTALLATION_ADMIN } from '@postbote/auth';
import { roleFromProto } from '@postbote/contract';
import type { AuditEntry, ConsoleUser } from '@postbote/proto';
import { html, type Html } from './html';
import { notice, page, postForm, when } from './layout';
import type { Session } from './sessions';

/** Who changed what, newest first (admins): the same entries as `postbote audit`. */
export function auditPage(session: Session, entries: readonly AuditEntry[], next: string, target: string): Html {
  const more = next ? html`<p><a href="/audit?page=${encodeURIComponent(next)}${target ? `&target=${encodeURIComponent(target)}` : ''}">Older entries</a></p>` : '';
  return page(
    session,
    'Audit log',
    html`<h1>Audit log</h1>
${target ? html`<p>Only entries for ${target}. <a href="/audit">All entries</a></p>` : ''}
${
  entries.length
    ? html`<table><thead><tr><th scope="col">Time</th><th scope="col">Who</th><th scope="col">From</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Detail</th></tr></thead><tbody>${entries.map(
        (e) => html`<tr><td>${when(e.at)}</td><td>${e.actor}</td><td>${e.peer}</td><td>${e.action}</td><td>${e.targetId ? html`<a href="/audit?target=${encodeURIComponent(e.targetId)}">${e.targetName || e.targetId}</a>` : ''}</td><td>${e.detail}</td></tr>`,
      )}</tbody></table>`
    : html`<p>No entries.</p>`
}
${more}`,
  );
}

export interface UserForm {
  readonly name: string;
  readonly role: string;
  readonly errors: ReadonlyMap<string, string>;
}

/** The workspace's people (admins): add one, or remove one from the workspace. */
export function usersPage(session: Session, users: readonly ConsoleUser[], form: UserForm, flash: string): Html {
  const err = (f: string) => form.errors.get(f);
  const described = (f: string) => (err(f) ? html`aria-invalid="true" aria-describedby="u-${f}-error"` : html``);
  const error = (f: string) => (err(f) ? html`<span class="error" id="u-${f}-error">${err(f)}</span>` : '');
  return page(
    session,
    'Users',
    html`<h1>Console users</h1>
${flash ? notice('good', flash) : ''}
${form.errors.get('') ? notice('bad', form.errors.get('') ?? '') : ''}
<table><thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Created</th><th scope="col">Created by</th><th scope="col">Last sign-in</th><th scope="col"><span class="skip">Remove</span></th></tr></thead><tbody>${users.map(
      (u) => html`<tr><td>${u.name}</td><td>${roleFromProto(u.role)}</td><td>${when(u.createdAt)}</td><td>${u.createdBy}</td><td>${when(u.lastSignInAt) || 'never'}</td>
<td>${u.name === session.user ? html`<span class="muted">you</span>` : postForm(session, '/users/remove', html`<input type="hidden" name="name" value="${u.name}"><button type="submit" class="secondary" aria-label="Remove ${u.name}">Remove</button>`)}</td></tr>`,
    )}</tbody></table>
<h2>Add a user</h2>
${postForm(
  session,
  '/users',
  html`<div class="field"><label for="u-name">Name</label><div><input type="text" id="u-name" name="name" value="${form.name}" autocomplete="off" ${described('name')}></div><span class="hint">lower-case letters, digits, ".", "_", "-", "@"</span>${error('name')}</div>
<div class="field"><label for="u-role">Role in ${session.workspace}</label><div><select id="u-role" name="role" ${described('role')}>${[...CONSOLE_ROLES, ...(session.installationAdmin ? [INSTALLATION_ADMIN] : [])].map((r) => html`<option ${r === form.role ? 'selected' : ''}>${r}</option>`)}</select></div><span class="hint">viewer reads; operator also changes connectors; admin also manages people and tokens</span>${error('role')}</div>
<div class="field"><label for="u-password">Password</label><div><input type="password" id="u-password" name="password" autocomplete="new-password" ${described('password')}></div><span class="hint">12 characters or more; tell it to the person another way. Empty adds a person who has one (a member of another workspace)</span>${error('password')}</div>
<div class="field"><label for="u-replace">Replace if the name exists</label><div><input type="checkbox" id="u-replace" name="replace"></div><span class="hint">sets this role and password; their open sessions end</span></div>
<div class="actions"><button type="submit">Add user</button></div>`,
  html`class="panel"`,
)}`,
  );
}
