import { LOG_LEVEL_NAMES, type ConnectorRecord } from '@postbote/connector-model';
import { addressText, sourceText } from '@postbote/contract';
import { LogLevel, enumKey, type ConnectorLogEntry, type EmailMetadata, type FetcherInstance } from '@postbote/proto';
import { html, type Html } from './html';
import { size, when } from './i18n';
import { page } from './layout';
import type { Session } from './sessions';


function pager(s: Session, base: string, next: string): Html {
  if (!next) return html``;
  const url = `${base}${base.includes('?') ? '&' : '?'}page=${encodeURIComponent(next)}`;
  return html`<p><a href="${url}">${s.t.common.olderEntries}</a></p>`;
}

/** The connector's log ("Protokoll"): newest first, filtered by level, paged. */
export function logPage(session: Session, c: ConnectorRecord, entries: readonly ConnectorLogEntry[], level: string, next: string): Html {
  const t = session.t.log;
  const base = `/connectors/${c.id}/log?level=${encodeURIComponent(level)}`;
  return page(
    session,
    t.title(c.name),
    html`<h1>${t.heading} <a href="/connectors/${c.id}">${c.name}</a></h1>
<form class="filters" method="get" action="/connectors/${c.id}/log">
<label>${t.level}<select name="level">${LOG_LEVEL_NAMES.map((l) => html`<option ${l === level ? 'selected' : ''}>${l}</option>`)}</select></label>
<button type="submit" class="secondary">${t.show}</button></form>
${
  entries.length
    ? html`<table class="list"><thead><tr><th scope="col">${t.time}</th><th scope="col">${t.levelCol}</th><th scope="col">${t.code}</th><th scope="col">${t.message}</th></tr></thead><tbody>${entries.map(
        (e) => html`<tr><td class="nowrap">${when(session, e.time)}</td><td>${enumKey(LogLevel, e.level)}</td><td class="code">${e.code}</td><td>${e.message}</td></tr>`,
      )}</tbody></table>`
    : html`<p>${t.none}</p>`
}
${pager(session, base, next)}`,
  );
}

/** What the stored-email search asks for (each empty when not asked). */
export interface EmailFilter {
  readonly since: string;
  readonly until: string;
  readonly from: string;
  readonly subject: string;
  readonly messageId: string;
}

export function emailsPage(session: Session, c: ConnectorRecord, emails: readonly EmailMetadata[], filter: EmailFilter, next: string): Html {
  const t = session.t.emails;
  const query = new URLSearchParams({ since: filter.since, until: filter.until, from: filter.from, subject: filter.subject, message_id: filter.messageId });
  const base = `/connectors/${c.id}/emails?${query.toString()}`;
  return page(
    session,
    t.title(c.name),
    html`<h1>${t.heading} <a href="/connectors/${c.id}">${c.name}</a></h1>
<form class="filters" method="get" action="/connectors/${c.id}/emails">
<label>${t.from}<input type="date" name="since" value="${filter.since}"></label>
<label>${t.until}<input type="date" name="until" value="${filter.until}"></label>
<label>${t.sender}<input type="search" name="from" value="${filter.from}" maxlength="320"></label>
<label>${t.subject}<input type="search" name="subject" value="${filter.subject}" maxlength="200"></label>
<label>${t.messageId}<input type="search" name="message_id" value="${filter.messageId}" maxlength="998"></label>
<button type="submit" class="secondary">${t.search}</button></form>
${
  emails.length
    ? html`<table class="list"><thead><tr><th scope="col">${t.stored}</th><th scope="col">${t.sender}</th><th scope="col">${t.subject}</th><th scope="col">${t.size}</th><th scope="col">${t.problems}</th><th scope="col"><span class="skip">${t.download}</span></th></tr></thead><tbody>${emails.map(
        (e) => html`<tr><td class="nowrap">${when(session, e.storedAt)}</td><td>${addressText(e.from)}</td><td><a href="/emails/${e.id}">${e.subject || t.noSubject}</a></td><td class="nowrap">${size(session, e.size)}</td><td>${e.parseError}</td>
<td class="nowrap"><a href="/emails/${e.id}/raw" download>.eml</a></td></tr>`,
      )}</tbody></table>`
    : html`<p>${t.none}</p>`
}
${pager(session, base, next)}`,
  );
}

export function emailPage(session: Session, e: EmailMetadata, connectorName: string): Html {
  const t = session.t.email;
  const none = session.t.common.none;
  const where = sourceText(e.source);
  const subject = e.subject || session.t.emails.noSubject;
  return page(
    session,
    e.subject || t.title,
    html`<h1>${subject}</h1>
<div class="actions"><a class="button" href="/emails/${e.id}/raw" download>${t.download}</a><a href="/connectors/${e.connectorId}/emails">${t.all(connectorName)}</a></div>
<dl class="meta">
<dt>${t.from}</dt><dd>${addressText(e.from)}</dd>
<dt>${t.to}</dt><dd>${e.to.map(addressText).join(', ')}</dd>
${e.cc.length ? html`<dt>${t.cc}</dt><dd>${e.cc.map(addressText).join(', ')}</dd>` : ''}
<dt>${t.date}</dt><dd>${when(session, e.date)}</dd>
<dt>${t.messageId}</dt><dd>${e.messageId}</dd>
<dt>${t.received}</dt><dd>${when(session, e.receivedAt)}</dd>
<dt>${t.stored}</dt><dd>${when(session, e.storedAt)}</dd>
<dt>${t.size}</dt><dd>${size(session, e.size)} (SHA-256 ${e.sha256})</dd>
<dt>${t.source}</dt><dd>${where}</dd>
<dt>${t.event}</dt><dd>${e.eventId ? html`${e.eventId} — ${e.eventPublishedAt ? t.published(when(session, e.eventPublishedAt)) : t.waiting}` : t.noEvent}</dd>
<dt>${t.parse}</dt><dd>${e.parseError || none}</dd>
<dt>${t.attachments}</dt><dd>${e.attachments.length ? e.attachments.map((a) => `${a.fileName || t.unnamed} (${a.contentType}, ${size(session, a.size)})`).join('; ') : none}</dd>
</dl>
<h2>${t.text}</h2>
<pre class="preview">${e.textPreview || t.noText}</pre>`,
  );
}

export function fleetPage(session: Session, instances: readonly FetcherInstance[], names: ReadonlyMap<string, string>): Html {
  const t = session.t.fleet;
  return page(
    session,
    t.title,
    html`<h1>${t.title}</h1>
${
  instances.length
    ? html`<table class="list"><thead><tr><th scope="col">${t.instance}</th><th scope="col">${t.partitions}</th><th scope="col">${t.source}</th><th scope="col">${t.connectors}</th><th scope="col">${t.reported}</th></tr></thead><tbody>${instances.map(
        (i) => html`<tr><td>${i.instanceId}</td><td>${i.partitions.join(', ')}</td><td>${i.sourceAddress || t.system}</td>
<td>${i.connectors.map((s, n) => html`${n ? ', ' : ''}<a href="/connectors/${s.connectorId}">${names.get(s.connectorId) ?? s.connectorId}</a>`)}</td><td class="nowrap">${when(session, i.reportedAt)}</td></tr>`,
      )}</tbody></table>`
    : html`<p>${t.none}</p>`
}`,
  );
}
