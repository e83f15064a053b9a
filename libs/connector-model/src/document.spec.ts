import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Secret } from '@postbote/crypto';
import { settingsFromDocument, settingsToDocument } from './document';
import { SETTING_KEYS } from './fields';
import { resolveCreate } from './validate';

const imap = resolveCreate({ name: 'a', protocol: 'IMAP', host: 'h', username: 'u', password: new Secret('p'), workflowId: 'w' }).settings;
// Every optional setting at its default: what a document that predates a setting reads as.
const pop3 = resolveCreate({ name: 'b', protocol: 'POP3', host: 'h', username: 'u', password: new Secret('p'), workflowId: 'w' }).settings;

describe('the stored settings document', () => {
  it('round-trips every setting', () => {
    const custom = resolveCreate({ name: 'c', protocol: 'POP3', host: 'h', username: 'u', password: new Secret('p'), workflowId: 'w', security: 'TLS', batchSize: 7 }).settings;
    for (const s of [imap, pop3, custom]) assert.deepEqual(settingsFromDocument(settingsToDocument(s)), s);
  });

  it('fills a setting a document predates with its default (no migration for a new setting)', () => {
    for (const s of [imap, pop3]) {
      for (const key of SETTING_KEYS.filter((k) => !['name', 'protocol', 'host', 'username', 'workflowId'].includes(k))) {
        const doc = JSON.parse(settingsToDocument(s)) as Record<string, unknown>;
        delete doc[key];
        assert.deepEqual(settingsFromDocument(JSON.stringify(doc))[key], s[key], `${s.protocol} ${key}`);
      }
    }
  });
});
