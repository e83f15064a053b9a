/**
 * HTML built from templates whose interpolations are escaped unless they are `Html`
 * already: every value from a user, a mail server or an email (names, subjects, log lines,
 * server answers) goes through `escape`, so none of them can add markup or script.
 */
export class Html {
  /** A whole page's language (set by `page`), for the Content-Language header. */
  lang?: string;
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Fragment = Html | string | number | boolean | null | undefined | readonly Fragment[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function render(f: Fragment): string {
  if (f instanceof Html) return f.value;
  if (Array.isArray(f)) return f.map(render).join('');
  if (f === null || f === undefined || f === false) return '';
  return escape(String(f));
}

export function html(strings: TemplateStringsArray, ...values: Fragment[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => (out += render(v) + (strings[i + 1] ?? '')));
  return new Html(out);
}
