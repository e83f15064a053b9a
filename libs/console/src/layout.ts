import { permitted } from '@postbote/auth';
import { html, type Fragment, type Html } from './html';
import type { Viewer } from './i18n';
import { principalOf, type Session } from './sessions';

/** Whether the person may call a method (`Service/Method`): the API's permission table decides what the console offers. */
export function can(session: Session, method: string): boolean {
  return permitted(principalOf(session), `/postbote.v1.${method}`, session.workspace);
}

/** A form that changes something: POST with the session's CSRF token. */
export function postForm(session: Session, action: string, body: Fragment, attrs: Html = html``): Html {
  return html`<form method="post" action="${action}" ${attrs}><input type="hidden" name="_csrf" value="${session.csrf}">${body}</form>`;
}

const signedIn = (v: Viewer | Session): v is Session => 'token' in v;

/** A role as the language names it. */
export const roleName = (v: Viewer, role: string) => v.t.roles[role] ?? role;

/** A page in the viewer's language; the navigation when signed in, the language switch always. */
export function page(v: Viewer | Session, title: string, body: Fragment): Html {
  const { t } = v;
  const nav = signedIn(v)
    ? html`<nav aria-label="${t.nav.main}"><a href="/connectors">${t.nav.connectors}</a><a href="/fleet">${t.nav.fetchers}</a><a href="/events/parked">${t.nav.parked}</a>${
        can(v, 'ConsoleUserService/ListConsoleUsers') ? html`<a href="/users">${t.nav.users}</a>` : ''
      }${v.installationAdmin ? html`<a href="/workspaces">${t.nav.workspaces}</a>` : ''}${can(v, 'AccessService/ListAuditEntries') ? html`<a href="/audit">${t.nav.audit}</a>` : ''}</nav>
        ${workspaceSwitch(v)}
        <span class="muted">${t.nav.who(v.user, roleName(v, v.role))}</span>
        ${postForm(v, '/sign-out', html`<button class="secondary" type="submit">${t.nav.signOut}</button>`)}`
    : html`<nav aria-label="${t.nav.main}"></nav>`;
  const other = t.lang.other;
  const out = html`<!doctype html>
<html lang="${v.locale}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Postbote</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">${t.nav.skip}</a>
<header class="top"><span class="brand">Postbote</span>${nav}<a class="lang" href="/language/${other}" hreflang="${other}" lang="${other}" aria-label="${t.lang.switchLabel}">${t.lang.switchTo}</a></header>
<main id="main">
${body}
</main>
</body>
</html>`;
  out.lang = v.locale;
  return out;
}

/**
 * The workspace the person works in, and a switch to the others they belong to (an
 * installation admin switches on the workspaces page, where every workspace is listed).
 */
function workspaceSwitch(session: Session): Html {
  const { t } = session;
  const others = [...session.memberships.keys()].filter((w) => w !== session.workspace).sort();
  if (others.length === 0) return html`<span class="workspace" data-workspace="${session.workspace}">${t.nav.workspace}: <strong>${session.workspace}</strong></span>`;
  const options = [session.workspace, ...others].map((w) => html`<option value="${w}"${w === session.workspace ? html` selected` : ''}>${w}</option>`);
  return postForm(
    session,
    '/workspace',
    html`<label>${t.nav.workspace} <select name="workspace">${options}</select></label><button class="secondary" type="submit">${t.nav.switchWorkspace}</button>`,
    html`class="workspace" data-workspace="${session.workspace}"`,
  );
}

export function notice(kind: 'good' | 'bad' | 'warn', text: Fragment): Html {
  return html`<p class="notice ${kind}" role="${kind === 'bad' ? 'alert' : 'status'}">${text}</p>`;
}
