import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT, runCli } from './processes';

/** The web console's URL from the all-in-one's start line. */
export function consoleUrlFrom(output: string): string {
  const m = /web console at (https?:\/\/[^\s"]+)/.exec(output);
  if (!m?.[1]) throw new Error('the all-in-one did not print the console URL');
  return m[1].replace(/\/$/, '');
}

/** `postbote console add-user` as the data folder's first admin. */
export function addConsoleUser(env: NodeJS.ProcessEnv, name: string, role: 'admin' | 'operator' | 'viewer', password: string): void {
  const r = runCli(env, ['console', 'add-user', name, '--role', role, '--password-stdin'], `${password}\n`);
  if (r.code !== 0) throw new Error(`console add-user failed (${r.code}): ${r.err}`);
}

/**
 * A browser as a person at the console: Debian's Chromium (scripts/test-env.sh installs it)
 * driven by playwright-core, which never downloads a browser of its own.
 */
export async function consoleBrowser(): Promise<Browser> {
  const executablePath = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Where the browser tests save a screenshot of each screen (kept for the README and for reviewing a failure). */
export function screenshotDir(): string {
  const dir = join(REPO_ROOT, '.cache', 'console-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A session at the console over plain HTTP: a cookie jar, the CSRF token of the last page, forms posted as a browser posts them. */
export class ConsoleHttp {
  readonly #cookies = new Map<string, string>();
  csrf = '';

  constructor(readonly base: string) {}

  get cookieHeader(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string>; cookies?: boolean } = {}): Promise<{ status: number; location: string; body: string; headers: Headers }> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.cookies !== false && this.#cookies.size) headers['cookie'] = this.cookieHeader;
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(`${this.base}${path}`, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';');
      const i = pair.indexOf('=');
      const [k, v] = [pair.slice(0, i), pair.slice(i + 1)];
      if (v === '' || /expires=Thu, 01 Jan 1970/i.test(c)) this.#cookies.delete(k);
      else this.#cookies.set(k, v);
    }
    const text = await res.text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (csrf) this.csrf = csrf;
    return { status: res.status, location: res.headers.get('location') ?? '', body: text, headers: res.headers };
  }

  /** Signs in as the form does; `next` is sent as given (the console decides where it leads). */
  async signIn(name: string, password: string, next = '/connectors'): Promise<{ status: number; location: string; body: string }> {
    const page = await this.request('/sign-in');
    const nonce = /name="_signin" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    return this.request('/sign-in', { form: { _signin: nonce, next, name, password } });
  }

  /** Posts a form with this session's CSRF token (from the last page that had one). */
  post(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return this.request(path, { form: { _csrf: this.csrf, ...form }, headers });
  }
}
