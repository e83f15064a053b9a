import type { ParkedEvent } from '@postbote/proto';
import { html, type Html } from './html';
import { number, when } from './i18n';
import { can, notice, page, postForm } from './layout';
import type { Session } from './sessions';

/**
 * Workflow events the relay set aside because they could not be published (the same list as
 * `postbote events parked`); an operator puts one back in line once the limit allows it.
 */
export function parkedEventsPage(session: Session, events: readonly ParkedEvent[], next: string, flash: string): Html {
  const t = session.t.parked;
  const retry = can(session, 'TriggerService/RetryParkedEvent');
  const more = next ? html`<p><a href="/events/parked?page=${encodeURIComponent(next)}">${session.t.common.more}</a></p>` : '';
  return page(
    session,
    t.title,
    html`<h1>${t.heading}</h1>
${flash ? notice('good', flash) : ''}
<p class="muted">${t.explain}</p>
${
  events.length
    ? html`<table class="list"><thead><tr><th scope="col">${t.parked}</th><th scope="col">${t.email}</th><th scope="col">${t.size}</th><th scope="col">${t.reason}</th>${retry ? html`<th scope="col"><span class="skip">${t.retry}</span></th>` : ''}</tr></thead><tbody>${events.map(
        (e) => html`<tr data-event="${e.eventId}"><td class="nowrap">${when(session, e.parkedAt)}</td><td><a href="/emails/${e.emailId}">${e.emailId}</a></td><td class="nowrap">${number(session, e.size)} B</td><td>${e.reason}</td>${
          retry ? html`<td>${postForm(session, '/events/parked/retry', html`<input type="hidden" name="event" value="${e.eventId}"><button type="submit" class="secondary" aria-label="${t.retryOne(e.eventId)}">${t.retry}</button>`)}</td>` : ''
        }</tr>`,
      )}</tbody></table>`
    : html`<p>${t.none}</p>`
}
${more}`,
  );
}
