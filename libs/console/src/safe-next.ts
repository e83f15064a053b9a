const HOME = '/connectors';
const BASE = 'http://console.invalid';
/** Spaces, controls (C0, DEL, C1) and backslashes: none belongs in a path the console links to. */
const unsafe = (ch: string) => ch <= ' ' || (ch >= '\u007f' && ch <= '\u009f') || ch === '\\';

/**
 * Where to send a person after signing in: a path of this console, never another host.
 * Checking the text is not enough, because a browser reads a Location header by the URL
 * standard — it drops tabs and newlines and reads `\` as `/`, so `/\t/evil.example/x` is
 * `//evil.example/x`, another host. So the candidate is parsed the same way and kept only if
 * it stays on this origin and its normalised path does not itself start with `//` (as
 * `/a/..//evil.example` would); what is sent is that normalised form.
 */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.length > 2048 || [...next].some(unsafe)) return HOME;
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return HOME;
  }
  if (url.origin !== BASE || url.pathname.startsWith('//')) return HOME;
  return `${url.pathname}${url.search}${url.hash}`;
}
