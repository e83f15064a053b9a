import { LOCALES, type Locale } from '@postbote/connector-model';
import { de } from './de';
import { en, type Messages } from './en';

export type { Messages };

const CATALOGUES: { readonly [L in Locale]: Messages } = { de, en };

/** Who a page is rendered for: their language, its texts and its formats. */
export interface Viewer {
  readonly locale: Locale;
  readonly t: Messages;
}

export function viewerFor(locale: Locale): Viewer {
  return { locale, t: CATALOGUES[locale] };
}

export const isLocale = (v: unknown): v is Locale => typeof v === 'string' && (LOCALES as readonly string[]).includes(v);

/** The language remembered by the switch (`lang` cookie); a language the browser asks for otherwise; English when it asks for neither. */
export function negotiate(remembered: string | undefined, acceptLanguage: string | undefined): Locale {
  if (isLocale(remembered)) return remembered;
  const wanted = (acceptLanguage ?? '')
    .split(',')
    .slice(0, 20)
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = Number(params.map((p) => p.trim()).find((p) => p.startsWith('q='))?.slice(2) ?? '1');
      return { lang: tag.trim().toLowerCase().split('-')[0] ?? '', q: Number.isFinite(q) ? q : 0, i };
    })
    .filter((w) => w.q > 0 && isLocale(w.lang))
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return (wanted[0]?.lang as Locale | undefined) ?? 'en';
}

const TAGS: { readonly [L in Locale]: string } = { de: 'de-DE', en: 'en-US' };

/**
 * A moment as people of the language write it, in UTC (the services' time; the zone is said):
 * 06.12.2026, 10:00:00 UTC in German; 2026-12-06 10:00:00 UTC in English (ISO order, the
 * same for British and American readers).
 */
export function when(v: Viewer, d: Date | undefined | null): string {
  if (!d) return '';
  if (v.locale === 'en') return `${d.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  const text = new Intl.DateTimeFormat(TAGS[v.locale], { timeZone: 'UTC', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(d);
  return `${text} UTC`;
}

export function number(v: Viewer, n: number, digits = 0): string {
  return n.toLocaleString(TAGS[v.locale], { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A size in B, KiB or MiB. */
export function size(v: Viewer, bytes: number): string {
  if (bytes >= 1024 * 1024) return `${number(v, bytes / 1024 / 1024, 1)} MiB`;
  if (bytes >= 1024) return `${number(v, Math.round(bytes / 1024))} KiB`;
  return `${number(v, bytes)} B`;
}
