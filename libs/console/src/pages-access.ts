import { html, type Html } from './html';
import { notice, page } from './layout';
import type { Session } from './sessions';

export function signInPage(nonce: string, next: string, problem: string): Html {
  return page(
    null,
    'Sign in',
    html`<form class="signin" method="post" action="/sign-in">
<h1>Sign in to Postbote</h1>
${problem ? notice('bad', problem) : ''}
<input type="hidden" name="_signin" value="${nonce}">
<input type="hidden" name="next" value="${next}">
<label for="name">User name</label><input id="name" name="name" type="text" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
<p class="muted">Users are added by an administrator: <code>postbote console add-user NAME --role admin|operator|viewer --password-stdin</code>.</p>
</form>`,
  );
}

export function problemPage(session: Session | null, title: string, message: string): Html {
  return page(session, title, html`<h1>${title}</h1>${notice('bad', message)}<p><a href="/connectors">Connectors</a></p>`);
}
