import { permitted } from '@postbote/auth';
import { html, type Fragment, type Html } from './html';
import { principalOf, type Session } from './sessions';

/** Whether the person may call a method (`Service/Method`): the API's permission table decides what the console offers. */
export function can(session: Session, method: string): boolean {
  return permitted(principalOf(session), `/postbote.v1.${method}`, session.workspace);
}

/** A form that changes something: POST with the session's CSRF token. */
export function postForm(session: Session, action: string, body: Fragment, attrs: Html = html``): Html {
  return html`<form method="post" action="${action}" ${attrs}><input type="hidden" name="_csrf" value="${session.csrf}">${body}</form>`;
}

export function page(session: Session | null, title: string, body: Fragment): Html {
  const nav = session
    ? html`<nav aria-label="Main"><a href="/connectors">Connectors</a><a href="/fleet">Fetchers</a><a href="/events/parked">Parked events</a>${can(session, 'ConsoleUserService/ListConsoleUsers') ? html`<a href="/users">Users</a>` : ''}${session.installationAdmin ? html`<a href="/workspaces">Workspaces</a>` : ''}${
        can(session, 'AccessService/ListAuditEntries') ? html`<a href="/audit">Audit log</a>` : ''
      }</nav>
        ${workspaceSwitch(session)}
        <span class="muted">${session.user} (${session.role})</span>
        ${postForm(session, '/sign-out', html`<button class="secondary" type="submit">Sign out</button>`)}`
    : html`<nav aria-label="Main"></nav>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Postbote</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><span class="brand">Postbote</span>${nav}</header>
<main id="main">
${body}
</main>
</body>
</html>`;
}

/**
 * The workspace the person works in, and a switch to the others they belong to (an
 * installation admin switches on the workspaces page, where every workspace is listed).
 */
function workspaceSwitch(session: Session): Html {
  const others = [...session.memberships.keys()].filter((w) => w !== session.workspace).sort();
  if (others.length === 0) return html`<span class="workspace" data-workspace="${session.workspace}">Workspace: <strong>${session.workspace}</strong></span>`;
  const options = [session.workspace, ...others].map((w) => html`<option value="${w}"${w === session.workspace ? html` selected` : ''}>${w}</option>`);
  return postForm(
    session,
    '/workspace',
    html`<label>Workspace <select name="workspace">${options}</select></label><button class="secondary" type="submit">Switch</button>`,
    html`class="workspace" data-workspace="${session.workspace}"`,
  );
}

export function notice(kind: 'good' | 'bad' | 'warn', text: Fragment): Html {
  return html`<p class="notice ${kind}" role="${kind === 'bad' ? 'alert' : 'status'}">${text}</p>`;
}

export function when(d: Date | undefined | null): string {
  return d ? d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '';
}
