import { permitted } from '@postbote/auth';
import { html, type Fragment, type Html } from './html';
import type { Session } from './sessions';

/** Whether the person may call a method (`Service/Method`): the API's permission table decides what the console offers. */
export function can(session: Session, method: string): boolean {
  return permitted({ kind: 'token', tokenId: '', name: session.user, role: session.role, expiresAt: session.expiresAt }, `/postbote.v1.${method}`);
}

/** A form that changes something: POST with the session's CSRF token. */
export function postForm(session: Session, action: string, body: Fragment, attrs: Html = html``): Html {
  return html`<form method="post" action="${action}" ${attrs}><input type="hidden" name="_csrf" value="${session.csrf}">${body}</form>`;
}

export function page(session: Session | null, title: string, body: Fragment): Html {
  const nav = session
    ? html`<nav aria-label="Main"><a href="/connectors">Connectors</a><a href="/fleet">Fetchers</a>${can(session, 'ConsoleUserService/ListConsoleUsers') ? html`<a href="/users">Users</a>` : ''}${
        can(session, 'AccessService/ListAuditEntries') ? html`<a href="/audit">Audit log</a>` : ''
      }</nav>
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

export function notice(kind: 'good' | 'bad' | 'warn', text: Fragment): Html {
  return html`<p class="notice ${kind}" role="${kind === 'bad' ? 'alert' : 'status'}">${text}</p>`;
}

export function when(d: Date | undefined | null): string {
  return d ? d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '';
}
