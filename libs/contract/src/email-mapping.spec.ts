import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { EmailReceived } from '@postbote/proto';
import type { ParsedMetadata } from '@postbote/connector-model';
import { EVENT_LIST_MAX, emailReceivedToProto } from './email-mapping';

const buildEmailReceived = (f: Parameters<typeof emailReceivedToProto>[0], m: ParsedMetadata) => EmailReceived.encode(emailReceivedToProto(f, m)).finish();

const facts = { eventId: 'e', emailId: 'm', connectorId: 'c', workspace: 'acme', connectorName: 'n', workflowId: 'wf', source: { kind: 'POP3' as const, uidl: 'u' }, receivedAt: new Date(0), storedAt: new Date(0), sha256: 'h', size: 1, storageAddress: 's:1' };
const metadata = (to: number, attachments: number, subject = 's'): ParsedMetadata =>
  ({
    from: null,
    to: Array.from({ length: to }, (_, i) => ({ name: '', address: `r${i}@example.test` })),
    cc: [],
    replyTo: [],
    subject,
    date: null,
    messageId: '<m@example.test>',
    inReplyTo: '',
    references: [],
    textPreview: '',
    htmlPreview: '',
    attachments: Array.from({ length: attachments }, (_, i) => ({ fileName: `f${i}.txt`, contentType: 'text/plain', size: 1, sha256: 'x'.repeat(64) })),
    problems: [],
  });

describe('the workflow event', () => {
  it('carries at most the first 100 recipients and attachments, with their counts and a truncated flag', () => {
    const e = EmailReceived.decode(buildEmailReceived(facts, metadata(25_000, 10_000, 'x'.repeat(5_000))));
    assert.deepEqual([e.to.length, e.toCount, e.attachments.length, e.attachmentCount, e.truncated], [EVENT_LIST_MAX, 25_000, EVENT_LIST_MAX, 10_000, true]);
    assert.equal(e.subject.length, 998);
    assert.equal(e.workspace, 'acme');
  });

  it('says nothing was cut when nothing was', () => {
    const e = EmailReceived.decode(buildEmailReceived(facts, metadata(3, 1)));
    assert.deepEqual([e.to.length, e.toCount, e.attachmentCount, e.truncated], [3, 3, 1, false]);
  });
});
