// Every text of the console comes from the message catalogues (i18n/en.ts, i18n/de.ts) or the
// field catalogue. This test reads the console's sources and fails on words written straight
// into an html`` template — as page text or in an attribute a person reads (aria-label,
// placeholder, title, alt) — naming the file and line. Command lines in <code> and a few
// names that are the same in every language are allowed.
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const SRC = __dirname;
/** Names, units and protocol words that read the same in German and English. */
const SAME_IN_EVERY_LANGUAGE = new Set(['Postbote', 'UTC', 'ms', 'B', 'SHA', 'IMAP', 'POP3', 'UIDL', 'UIDVALIDITY', 'UID', 'eml', 'KiB', 'MiB', 's']);
const HOLE = '\u0000';

interface Template {
  readonly text: string;
  readonly line: number;
}

/** The static parts of every html`` template in `src` (expressions replaced by HOLE), nested ones too. */
export function htmlTemplates(src: string): Template[] {
  const out: Template[] = [];
  const lineAt = (i: number) => src.slice(0, i).split('\n').length;
  // Reads a template literal starting after its backtick; returns the index after its closing backtick.
  const template = (start: number, tagged: boolean): number => {
    let text = '';
    let i = start;
    while (i < src.length && src[i] !== '`') {
      if (src[i] === '\\') {
        text += src.slice(i, i + 2);
        i += 2;
      } else if (src[i] === '$' && src[i + 1] === '{') {
        i = expression(i + 2);
        text += HOLE;
      } else text += src[i++];
    }
    if (tagged) out.push({ text, line: lineAt(start) });
    return i + 1;
  };
  // Reads a JS expression up to its closing brace, following strings and nested templates.
  const expression = (start: number): number => {
    let depth = 0;
    let i = start;
    while (i < src.length) {
      const c = src[i];
      if (c === '`') i = template(i + 1, src.slice(Math.max(0, i - 4), i) === 'html');
      else if (c === "'" || c === '"') {
        i++;
        while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
        i++;
      } else if (c === '{') {
        depth++;
        i++;
      } else if (c === '}') {
        if (depth === 0) return i + 1;
        depth--;
        i++;
      } else i++;
    }
    return i;
  };
  for (let i = 0; i < src.length; i++) {
    if (src[i] === '`' && src.slice(Math.max(0, i - 4), i) === 'html') i = template(i + 1, true) - 1;
    else if (src[i] === '`') i = template(i + 1, false) - 1;
    else if (src[i] === '/' && src[i + 1] === '/') i = src.indexOf('\n', i);
    else if (src[i] === '/' && src[i + 1] === '*') i = src.indexOf('*/', i) + 1;
    else if (src[i] === "'" || src[i] === '"') {
      const q = src[i];
      i++;
      while (i < src.length && src[i] !== q) i += src[i] === '\\' ? 2 : 1;
    }
    if (i < 0) break;
  }
  return out;
}

/** The words a person would read in a template's static text and attributes. */
export function wordsIn(text: string): string[] {
  const readable: string[] = [];
  // A template of attributes only (`class="x" aria-invalid="true"`) is read as the inside of a tag.
  if (!text.includes('<') && /^\s*[\w-]+(=|\s|$)/.test(text)) text = `<x ${text}>`;
  const withoutCode = text.replace(/<code[^>]*>[\s\S]*?<\/code>/g, ' ');
  for (const m of withoutCode.matchAll(/\s(?:aria-label|placeholder|title|alt)="([^"]*)"/g)) readable.push(m[1] ?? '');
  readable.push(withoutCode.replace(/<[^>]*>/g, ' '));
  return readable.flatMap((r) => r.split(HOLE)).flatMap((r) => r.match(/\p{L}+(?:['’-]\p{L}+)*/gu) ?? []).filter((w) => !SAME_IN_EVERY_LANGUAGE.has(w));
}

describe('console texts', () => {
  it('finds words written into a template (the check itself)', () => {
    const [t] = htmlTemplates('const x = html`<p>Hello ${name}</p><button aria-label="Close">${t.ok}</button>`;');
    assert.deepEqual(wordsIn(t!.text), ['Close', 'Hello']);
    const nested = htmlTemplates('html`<ul>${items.map((i) => html`<li>Item ${i}</li>`)}</ul>`');
    assert.deepEqual(nested.flatMap((x) => wordsIn(x.text)), ['Item']);
    assert.deepEqual(wordsIn(`class="panel" aria-label="Remove"`), ['Remove']);
  });

  it('has no hard-coded text in any page: every word comes from a catalogue', () => {
    const problems: string[] = [];
    for (const name of readdirSync(SRC).filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))) {
      for (const t of htmlTemplates(readFileSync(join(SRC, name), 'utf8'))) {
        const words = wordsIn(t.text);
        if (words.length) problems.push(`${name}:${t.line}: ${words.join(' ')}`);
      }
      // Texts handed to the page helpers as literals (a title, a notice, a problem page's words).
      const src = readFileSync(join(SRC, name), 'utf8');
      for (const m of src.matchAll(/\b(?:notice\('(?:good|bad|warn)',|page\([^,()]+,|problemPage\([^,()]+,(?:[^,()]+,)?)\s*(['"`])/g)) {
        problems.push(`${name}:${src.slice(0, m.index).split('\n').length}: a literal text in ${m[0].trim()}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
