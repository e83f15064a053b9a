import { html, type Html } from './html';
import type { Viewer } from './i18n';
import { notice, page } from './layout';

export function signInPage(v: Viewer, nonce: string, next: string, problem: string): Html {
  const { t } = v;
  return page(
    v,
    t.signIn.title,
    html`<form class="signin" method="post" action="/sign-in">
<h1>${t.signIn.heading}</h1>
${problem ? notice('bad', problem) : ''}
<input type="hidden" name="_signin" value="${nonce}">
<input type="hidden" name="next" value="${next}">
<label for="name">${t.signIn.user}</label><input id="name" name="name" type="text" autocomplete="username" required autofocus>
<label for="password">${t.signIn.password}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">${t.signIn.submit}</button>
<p class="muted">${t.signIn.hint} <code class="nowrap">postbote console add-user NAME</code> <code class="nowrap">--role admin|operator|viewer</code> <code class="nowrap">--password-stdin</code>.</p>
</form>`,
  );
}

export function problemPage(v: Viewer, title: string, message: string): Html {
  return page(v, title, html`<h1>${title}</h1>${notice('bad', message)}<p><a href="/connectors">${v.t.problems.back}</a></p>`);
}
