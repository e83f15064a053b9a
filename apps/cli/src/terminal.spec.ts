import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { forTerminal, oneLine } from './terminal';

describe('terminal output', () => {
  it('shows C0 and C1 controls, DEL and bidi controls as escapes', () => {
    assert.equal(forTerminal('NO \x1b[2J\x1b]0;pwned\x07 bye\r'), 'NO \\x1b[2J\\x1b]0;pwned\\x07 bye\\x0d');
    assert.equal(forTerminal('a\x7fb\u009b31mc\u0085'), 'a\\x7fb\\x9b31mc\\x85');
    assert.equal(forTerminal('invoice\u202Efdp.exe \u2066x\u2069 \u2028'), 'invoice\\u202efdp.exe \\u2066x\\u2069 \\u2028');
    assert.equal(forTerminal('tab\there'), 'tab\\x09here');
  });

  it('keeps lines in a block, but not inside one value', () => {
    assert.equal(forTerminal('line 1\nline 2'), 'line 1\nline 2');
    assert.equal(oneLine('subject\nFAKE LINE'), 'subject\\x0aFAKE LINE');
  });

  it('leaves ordinary text alone', () => {
    const text = 'Aufbewahrungsdauer: 30 Tage — Grüße 📬 日本語 «quoted»';
    assert.equal(forTerminal(text), text);
    assert.equal(oneLine(text), text);
  });
});
