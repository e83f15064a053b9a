import { CONSOLE_ROLES, INSTALLATION_ADMIN } from '@postbote/auth';
import { roleFromProto } from '@postbote/contract';
import type { AuditEntry, ConsoleUser } from '@postbote/proto';
import { html, type Html } from './html';
import { when } from './i18n';
import { notice, page, postForm, roleName } from './layout';
import type { Session } from './sessions';

/** Who changed what, newest first (admins): the same entries as `postbote audit`. */
export function auditPage(session: Session, entries: readonly AuditEntry[], next: string, target: string): Html {
  const t = session.t.audit;
  const more = next ? html`<p><a href="/audit?page=${encodeURIComponent(next)}${target ? `&target=${encodeURIComponent(target)}` : ''}">${session.t.common.olderEntries}</a></p>` : '';
  return page(
    session,
    t.title,
    html`<h1>${t.title}</h1>
${target ? html`<p>${t.only(target)} <a href="/audit">${t.all}</a></p>` : ''}
${
  entries.length
    ? html`<table class="list"><thead><tr><th scope="col">${t.time}</th><th scope="col">${t.who}</th><th scope="col">${t.from}</th><th scope="col">${t.action}</th><th scope="col">${t.target}</th><th scope="col">${t.detail}</th></tr></thead><tbody>${entries.map(
        (e) =>
          html`<tr><td class="nowrap">${when(session, e.at)}</td><td>${e.actor}</td><td>${e.peer}</td><td class="code">${e.action}</td><td>${e.targetId ? html`<a href="/audit?target=${encodeURIComponent(e.targetId)}">${e.targetName || e.targetId}</a>` : ''}</td><td>${e.detail}</td></tr>`,
      )}</tbody></table>`
    : html`<p>${t.none}</p>`
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
  const t = session.t.users;
  const err = (f: string) => form.errors.get(f);
  const described = (f: string) => (err(f) ? html`aria-invalid="true" aria-describedby="u-${f}-error"` : html``);
  const error = (f: string) => (err(f) ? html`<span class="error" id="u-${f}-error">${err(f)}</span>` : '');
  const roles = [...CONSOLE_ROLES, ...(session.installationAdmin ? [INSTALLATION_ADMIN] : [])];
  return page(
    session,
    t.title,
    html`<h1>${t.heading}</h1>
${flash ? notice('good', flash) : ''}
${form.errors.get('') ? notice('bad', form.errors.get('') ?? '') : ''}
<table class="list"><thead><tr><th scope="col">${t.name}</th><th scope="col">${t.role}</th><th scope="col">${t.created}</th><th scope="col">${t.createdBy}</th><th scope="col">${t.lastSignIn}</th><th scope="col"><span class="skip">${t.remove}</span></th></tr></thead><tbody>${users.map(
      (u) => html`<tr><td>${u.name}</td><td>${roleName(session, roleFromProto(u.role))}</td><td class="nowrap">${when(session, u.createdAt)}</td><td>${u.createdBy}</td><td class="nowrap">${when(session, u.lastSignInAt) || session.t.common.never}</td>
<td>${u.name === session.user ? html`<span class="muted">${session.t.common.you}</span>` : postForm(session, '/users/remove', html`<input type="hidden" name="name" value="${u.name}"><button type="submit" class="secondary" aria-label="${t.removeOne(u.name)}">${t.remove}</button>`)}</td></tr>`,
    )}</tbody></table>
<h2>${t.add}</h2>
${postForm(
  session,
  '/users',
  html`<div class="field"><label for="u-name">${t.name}</label><div><input type="text" id="u-name" name="name" value="${form.name}" autocomplete="off" ${described('name')}></div><span class="hint">${t.nameHint}</span>${error('name')}</div>
<div class="field"><label for="u-role">${t.roleIn(session.workspace)}</label><div><select id="u-role" name="role" ${described('role')}>${roles.map((r) => html`<option value="${r}" ${r === form.role ? 'selected' : ''}>${roleName(session, r)}</option>`)}</select></div><span class="hint">${t.roleHint}</span>${error('role')}</div>
<div class="field"><label for="u-password">${t.password}</label><div><input type="password" id="u-password" name="password" autocomplete="new-password" ${described('password')}></div><span class="hint">${t.passwordHint}</span>${error('password')}</div>
<div class="field"><label for="u-replace">${t.replace}</label><div><input type="checkbox" id="u-replace" name="replace"></div><span class="hint">${t.replaceHint}</span></div>
<div class="actions"><button type="submit">${t.submit}</button></div>`,
  html`class="panel"`,
)}`,
  );
}
