import type { ConnectorRecord } from '@postbote/connector-model';
import { LogLevel, enumKey, type Address, type ConnectorLogEntry, type EmailMetadata, type FetcherInstance } from '@postbote/proto';
import { html, type Html } from './html';
import { page, when } from './layout';
import type { Session } from './sessions';

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;

const address = (a: Address | undefined) => (a ? (a.name ? `${a.name} <${a.address}>` : a.address) : '');
const size = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : bytes >= 1024 ? `${Math.round(bytes / 1024)} KiB` : `${bytes} B`);

function pager(base: string, next: string): Html {
  if (!next) return html``;
  const url = `${base}${base.includes('?') ? '&' : '?'}page=${encodeURIComponent(next)}`;
  return html`<p><a href="${url}">Older entries</a></p>`;
}

/** The connector's log ("Protokoll"): newest first, filtered by level, paged. */
export function logPage(session: Session, c: ConnectorRecord, entries: readonly ConnectorLogEntry[], level: string, next: string): Html {
  const base = `/connectors/${c.id}/log?level=${encodeURIComponent(level)}`;
  return page(
    session,
    `Log of ${c.name}`,
    html`<h1>Log of <a href="/connectors/${c.id}">${c.name}</a></h1>
<form class="filters" method="get" action="/connectors/${c.id}/log">
<label>Level and above<select name="level">${LOG_LEVELS.map((l) => html`<option ${l === level ? 'selected' : ''}>${l}</option>`)}</select></label>
<button type="submit" class="secondary">Show</button></form>
${
  entries.length
    ? html`<table><thead><tr><th scope="col">Time</th><th scope="col">Level</th><th scope="col">Code</th><th scope="col">Message</th></tr></thead><tbody>${entries.map(
        (e) => html`<tr><td>${when(e.time)}</td><td>${enumKey(LogLevel, e.level)}</td><td>${e.code}</td><td>${e.message}</td></tr>`,
      )}</tbody></table>`
    : html`<p>No entries at this level.</p>`
}
${pager(base, next)}`,
  );
}

export function emailsPage(session: Session, c: ConnectorRecord, emails: readonly EmailMetadata[], filter: { since: string; until: string }, next: string): Html {
  const base = `/connectors/${c.id}/emails?since=${encodeURIComponent(filter.since)}&until=${encodeURIComponent(filter.until)}`;
  return page(
    session,
    `Emails of ${c.name}`,
    html`<h1>Stored emails of <a href="/connectors/${c.id}">${c.name}</a></h1>
<form class="filters" method="get" action="/connectors/${c.id}/emails">
<label>Stored from<input type="date" name="since" value="${filter.since}"></label>
<label>until (before)<input type="date" name="until" value="${filter.until}"></label>
<button type="submit" class="secondary">Search</button></form>
${
  emails.length
    ? html`<table><thead><tr><th scope="col">Stored</th><th scope="col">From</th><th scope="col">Subject</th><th scope="col">Size</th><th scope="col">Problems</th><th scope="col"><span class="skip">Download</span></th></tr></thead><tbody>${emails.map(
        (e) => html`<tr><td>${when(e.storedAt)}</td><td>${address(e.from)}</td><td><a href="/emails/${e.id}">${e.subject || '(no subject)'}</a></td><td>${size(e.size)}</td><td>${e.parseError}</td>
<td><a href="/emails/${e.id}/raw" download>.eml</a></td></tr>`,
      )}</tbody></table>`
    : html`<p>No stored emails in this period.</p>`
}
${pager(base, next)}`,
  );
}

export function emailPage(session: Session, e: EmailMetadata, connectorName: string): Html {
  const src = e.source?.source;
  const where = src?.$case === 'imap' ? `IMAP ${src.value.folder}, UIDVALIDITY ${src.value.uidValidity}, UID ${src.value.uid}` : src?.$case === 'pop3' ? `POP3 UIDL ${src.value.uidl}` : '';
  return page(
    session,
    e.subject || 'Email',
    html`<h1>${e.subject || '(no subject)'}</h1>
<div class="actions"><a class="button" href="/emails/${e.id}/raw" download>Download .eml</a><a href="/connectors/${e.connectorId}/emails">All emails of ${connectorName}</a></div>
<dl class="meta">
<dt>From</dt><dd>${address(e.from)}</dd>
<dt>To</dt><dd>${e.to.map(address).join(', ')}</dd>
${e.cc.length ? html`<dt>Cc</dt><dd>${e.cc.map(address).join(', ')}</dd>` : ''}
<dt>Date</dt><dd>${when(e.date)}</dd>
<dt>Message-ID</dt><dd>${e.messageId}</dd>
<dt>Received</dt><dd>${when(e.receivedAt)}</dd>
<dt>Stored</dt><dd>${when(e.storedAt)}</dd>
<dt>Size</dt><dd>${size(e.size)} (SHA-256 ${e.sha256})</dd>
<dt>Source</dt><dd>${where}</dd>
<dt>Workflow event</dt><dd>${e.eventId ? html`${e.eventId} — ${e.eventPublishedAt ? `published on the topic ${when(e.eventPublishedAt)}` : 'waiting in the outbox for the trigger service'}` : 'none (a duplicate of an earlier email)'}</dd>
<dt>Parse problems</dt><dd>${e.parseError || 'none'}</dd>
<dt>Attachments</dt><dd>${e.attachments.length ? e.attachments.map((a) => `${a.fileName || '(unnamed)'} (${a.contentType}, ${size(a.size)})`).join('; ') : 'none'}</dd>
</dl>
<h2>Text</h2>
<pre class="preview">${e.textPreview || '(no text part)'}</pre>`,
  );
}

export function fleetPage(session: Session, instances: readonly FetcherInstance[], names: ReadonlyMap<string, string>): Html {
  return page(
    session,
    'Fetchers',
    html`<h1>Fetchers</h1>
${
  instances.length
    ? html`<table><thead><tr><th scope="col">Instance</th><th scope="col">Partitions</th><th scope="col">Source address</th><th scope="col">Connectors</th><th scope="col">Reported</th></tr></thead><tbody>${instances.map(
        (i) => html`<tr><td>${i.instanceId}</td><td>${i.partitions.join(', ')}</td><td>${i.sourceAddress || 'system'}</td>
<td>${i.connectors.map((s, n) => html`${n ? ', ' : ''}<a href="/connectors/${s.connectorId}">${names.get(s.connectorId) ?? s.connectorId}</a>`)}</td><td>${when(i.reportedAt)}</td></tr>`,
      )}</tbody></table>`
    : html`<p>No fetcher is reporting.</p>`
}`,
  );
}
