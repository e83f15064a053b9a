import type { ParkedEvent } from '@postbote/proto';
import { html, type Html } from './html';
import { can, notice, page, postForm, when } from './layout';
import type { Session } from './sessions';

/**
 * Workflow events the relay set aside because they could not be published (the same list as
 * `postbote events parked`); an operator puts one back in line once the limit allows it.
 */
export function parkedEventsPage(session: Session, events: readonly ParkedEvent[], next: string, flash: string): Html {
  const retry = can(session, 'TriggerService/RetryParkedEvent');
  const more = next ? html`<p><a href="/events/parked?page=${encodeURIComponent(next)}">More</a></p>` : '';
  return page(
    session,
    'Parked events',
    html`<h1>Parked workflow events</h1>
${flash ? notice('good', flash) : ''}
<p class="muted">An event is parked when it is larger than the trigger service may publish (TRIGGER_MAX_EVENT_BYTES); the events behind it go on. Retry puts it at the end of the line — raise the limit first.</p>
${
  events.length
    ? html`<table><thead><tr><th scope="col">Parked</th><th scope="col">Email</th><th scope="col">Size</th><th scope="col">Reason</th>${retry ? html`<th scope="col"><span class="skip">Retry</span></th>` : ''}</tr></thead><tbody>${events.map(
        (e) => html`<tr data-event="${e.eventId}"><td class="nowrap">${when(e.parkedAt)}</td><td><a href="/emails/${e.emailId}">${e.emailId}</a></td><td class="nowrap">${String(e.size)} B</td><td>${e.reason}</td>${
          retry ? html`<td>${postForm(session, '/events/parked/retry', html`<input type="hidden" name="event" value="${e.eventId}"><button type="submit" class="secondary" aria-label="Retry event ${e.eventId}">Retry</button>`)}</td>` : ''
        }</tr>`,
      )}</tbody></table>`
    : html`<p>No parked events: every event was published or is waiting its turn.</p>`
}
${more}`,
  );
}
