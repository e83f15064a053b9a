import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { html } from './html';

describe('console html templates', () => {
  it('escapes every interpolated value, nested templates stay markup', () => {
    const subject = '<script>alert("x")</script> & \'quotes\'';
    const out = html`<p title="${subject}">${subject}</p>${html`<b>${'<i>'}</b>`}${[1, html`<br>`, null, false]}`.value;
    assert.equal(out, '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;</p><b>&lt;i&gt;</b>1<br>');
  });
});
