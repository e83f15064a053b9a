// The console's style sheet and its one script, served from the package itself (no CDN,
// no build step of their own). The pages work without the script: it only shows the fields
// that apply to the chosen login and protocol, and runs "Test connection" and "Choose folder"
// in place instead of reloading the form.

export const CONSOLE_CSS = `
:root { --fg:#1d2330; --muted:#5b6475; --line:#d8dce3; --bg:#f6f7f9; --accent:#1f5fbf; --bad:#b3261e; --good:#1e7b34; --warn:#8a5a00; }
* { box-sizing: border-box; }
[hidden] { display:none !important; }
body { margin:0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
a { color:var(--accent); }
header.top { display:flex; gap:1.5rem; align-items:center; padding:.6rem 1.5rem; background:#fff; border-bottom:1px solid var(--line); flex-wrap:wrap; }
header.top .brand { font-weight:700; }
header.top nav { display:flex; gap:1rem; flex:1; }
header.top form { margin:0; }
header.top .workspace { display:flex; gap:.5rem; align-items:center; }
header.top .workspace select { margin-left:.4rem; }
main { max-width:1200px; margin:1.25rem auto; padding:0 1.5rem; }
h1 { font-size:1.45rem; margin:.2rem 0 1rem; }
h2 { font-size:1.1rem; margin:1.5rem 0 .6rem; }
table { width:100%; border-collapse:collapse; background:#fff; border:1px solid var(--line); }
/* break-word, not anywhere: a column is never narrower than its longest word, so words, codes, sizes and times stay whole; only a word longer than the whole column breaks. */
th, td { text-align:left; padding:.45rem .6rem; border-bottom:1px solid var(--line); vertical-align:top; overflow-wrap:break-word; }
th { font-weight:600; background:#eef0f4; }
.actions { display:flex; gap:.5rem; flex-wrap:wrap; align-items:center; margin:.8rem 0; }
.actions form { margin:0; }
button, .button { font:inherit; padding:.4rem .9rem; border:1px solid var(--accent); background:var(--accent); color:#fff; border-radius:4px; cursor:pointer; text-decoration:none; display:inline-block; }
button.secondary, .button.secondary { background:#fff; color:var(--accent); }
button.danger { background:var(--bad); border-color:var(--bad); }
button:focus-visible, a:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline:3px solid #f0b400; outline-offset:1px; }
form.settings, form.panel { background:#fff; border:1px solid var(--line); padding:1rem 1.25rem; }
fieldset { border:1px solid var(--line); margin:0 0 1rem; padding:.6rem 1rem; }
legend { font-weight:600; padding:0 .3rem; }
.field { display:grid; grid-template-columns: 14rem minmax(0, 1fr); gap:.2rem 1rem; margin:.55rem 0; align-items:start; }
.field label, .field .label { font-weight:600; padding-top:.3rem; }
.field .label label { padding-top:0; }
.field .hint { grid-column:2; color:var(--muted); font-size:.85rem; }
.field .error { grid-column:2; color:var(--bad); font-weight:600; }
.field input[type=text], .field input[type=password], .field input[type=number], .field select, .field textarea { width:100%; max-width:36rem; font:inherit; padding:.35rem .45rem; border:1px solid #aab1bd; border-radius:3px; }
.field input[aria-invalid=true], .field select[aria-invalid=true] { border-color:var(--bad); }
.field textarea { min-height:6rem; font-family: ui-monospace, monospace; font-size:.85rem; }
.notice { padding:.6rem .9rem; border-radius:4px; margin:0 0 1rem; border:1px solid; }
.notice.bad { color:var(--bad); background:#fdeceb; border-color:#f2b8b5; }
.notice.good { color:var(--good); background:#e9f6ec; border-color:#a8d5b2; }
.notice.warn { color:var(--warn); background:#fff6e0; border-color:#f0d48a; }
.state { font-weight:600; }
.state.AUTH_FAILED, .state.BACKOFF { color:var(--bad); }
.state.IDLE, .state.POLLING { color:var(--good); }
.muted { color:var(--muted); }
.req { color:var(--bad); margin-left:.2rem; }
.unit { margin-left:.4rem; color:var(--muted); }
.field input[inputmode=numeric] { max-width:10rem; }
.field label.file { display:block; font-weight:normal; font-size:.85rem; padding-top:.3rem; }
header.top .lang { margin-left:auto; }
.nowrap { white-space:nowrap; }
.steps td.ok { color:var(--good); } .steps td.failed { color:var(--bad); }
table.settings-view th { width:16rem; }
dl.meta { display:grid; grid-template-columns: 12rem minmax(0,1fr); gap:.3rem 1rem; background:#fff; border:1px solid var(--line); padding:.8rem 1rem; margin:0; }
dl.meta dt { font-weight:600; } dl.meta dd { margin:0; overflow-wrap:anywhere; }
pre.preview { white-space:pre-wrap; background:#fff; border:1px solid var(--line); padding:.8rem; max-height:24rem; overflow:auto; }
.filters { display:flex; gap:.8rem; align-items:end; flex-wrap:wrap; margin:.5rem 0 1rem; }
.filters label { display:flex; flex-direction:column; font-size:.85rem; font-weight:600; }
.filters input, .filters select { font:inherit; padding:.3rem; }
.signin { max-width:24rem; margin:4rem auto; background:#fff; border:1px solid var(--line); padding:1.5rem; }
.signin label { display:block; font-weight:600; margin-top:.8rem; }
.signin input { width:100%; font:inherit; padding:.4rem; margin-top:.2rem; }
.signin button { margin-top:1.2rem; width:100%; }
.skip { position:absolute; left:-999px; } .skip:focus { left:1rem; top:.5rem; background:#fff; padding:.3rem; }
`;

export const CONSOLE_JS = `
(function () {
  'use strict';
  var form = document.querySelector('form.settings');
  if (!form) return;
  // Fields that apply only to one login type or protocol: shown only when they apply.
  function sync() {
    var auth = form.querySelector('[name=auth_type]');
    var authValue = auth ? auth.value : 'PASSWORD';
    form.querySelectorAll('[data-auth]').forEach(function (el) {
      el.hidden = el.getAttribute('data-auth').split(' ').indexOf(authValue) < 0;
    });
    var security = form.querySelector('[name=security]');
    var none = document.getElementById('security-none-warning');
    if (security && none) none.hidden = security.value !== 'NONE';
    var strategy = form.querySelector('[name=strategy]');
    var move = form.querySelector('[data-field=move_to]');
    if (strategy && move) move.hidden = strategy.value !== 'MOVE';
    var proxy = form.querySelector('[name=proxy_url]');
    var proxyPassword = form.querySelector('[data-field=proxy_password]');
    if (proxy && proxyPassword) proxyPassword.hidden = !proxy.value.trim();
  }
  form.addEventListener('input', function (e) { if (e.target.name === 'proxy_url') sync(); });
  form.addEventListener('change', sync);
  sync();
  // A field the person corrects no longer shows the error the last answer gave it.
  form.addEventListener('input', function (e) {
    var box = e.target.closest ? e.target.closest('.field') : null;
    if (!box) return;
    var error = box.querySelector('.error');
    if (error) error.remove();
    e.target.removeAttribute('aria-invalid');
  });
  // A PEM file chosen beside the trusted-CA box is read into it (nothing is uploaded by itself).
  form.querySelectorAll('input[type=file][data-pem-for]').forEach(function (input) {
    input.addEventListener('change', function () {
      var box = document.getElementById(input.getAttribute('data-pem-for'));
      var file = input.files && input.files[0];
      if (!box || !file) return;
      file.text().then(function (pem) { box.value = pem; box.dispatchEvent(new Event('input', { bubbles: true })); });
    });
  });
  // What the script says, in the page's language (the server put it on the form).
  var say = form.dataset;
  var out = document.getElementById('test-result');
  function post(url) {
    var data = new URLSearchParams(new FormData(form));
    return fetch(url, { method: 'POST', body: data, headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
      .then(function (r) { return r.json(); });
  }
  function text(tag, value, cls) { var el = document.createElement(tag); el.textContent = value; if (cls) el.className = cls; return el; }
  form.querySelectorAll('button[data-action=test]').forEach(function (b) {
    b.addEventListener('click', function (e) {
      e.preventDefault();
      out.replaceChildren(text('p', say.tTesting, 'muted'));
      post(b.getAttribute('formaction')).then(function (res) {
        out.replaceChildren();
        if (res.error) { out.appendChild(text('p', res.error, 'notice bad')); return; }
        // Rendered (and escaped) by the server exactly as the page without the script shows it.
        out.innerHTML = res.html;
      }).catch(function () { out.replaceChildren(text('p', say.tTestFailed, 'notice bad')); });
    });
  });
  form.querySelectorAll('button[data-action=folders]').forEach(function (b) {
    b.hidden = false;
    b.addEventListener('click', function (e) {
      e.preventDefault();
      var target = form.querySelector('[name=' + b.getAttribute('data-target') + ']');
      var box = document.getElementById(b.getAttribute('aria-controls'));
      box.replaceChildren(text('span', say.tReading, 'muted'));
      post(b.getAttribute('formaction')).then(function (res) {
        box.replaceChildren();
        if (res.error) { box.appendChild(text('span', res.error, 'error')); return; }
        var sel = document.createElement('select');
        sel.setAttribute('aria-label', say.tFolders);
        res.folders.forEach(function (f) { var o = text('option', f); o.value = f; if (f === target.value) o.selected = true; sel.appendChild(o); });
        sel.addEventListener('change', function () { target.value = sel.value; });
        box.appendChild(sel);
        if (!target.value && res.folders.length) target.value = sel.value;
        sel.focus();
      }).catch(function () { box.replaceChildren(text('span', say.tFoldersFailed, 'error')); });
    });
  });
})();
`;

/** The console's icon: a letter in an envelope, in the accent colour. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="2" y="7" width="28" height="19" rx="3" fill="#1f5fbf"/><path d="M3 9l13 9 13-9" fill="none" stroke="#fff" stroke-width="2.5" stroke-linejoin="round"/></svg>`;
