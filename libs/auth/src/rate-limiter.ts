import { RateLimitedError } from '@postbote/errors';

/**
 * A token bucket per key: `burst` attempts at once, then one every `everyMs`. Keys that
 * have refilled are dropped, so memory follows the active callers, not all callers ever.
 * Time comes from the injected clock.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly options: { readonly burst: number; readonly everyMs: number; readonly now: () => number; readonly what: string },
  ) {}

  /** Takes one attempt for `key`, or throws RateLimitedError saying when to retry. */
  take(key: string): void {
    const now = this.options.now();
    this.#prune(now);
    const b = this.#buckets.get(key) ?? { tokens: this.options.burst, at: now };
    const tokens = Math.min(this.options.burst, b.tokens + (now - b.at) / this.options.everyMs);
    if (tokens < 1) {
      const waitS = Math.ceil(((1 - tokens) * this.options.everyMs) / 1000);
      throw new RateLimitedError(`too many ${this.options.what}; try again in ${waitS} s`, { reason: 'RATE_LIMITED' });
    }
    this.#buckets.set(key, { tokens: tokens - 1, at: now });
  }

  #prune(now: number): void {
    if (this.#buckets.size < 1000) return;
    for (const [k, b] of this.#buckets) if (b.tokens + (now - b.at) / this.options.everyMs >= this.options.burst) this.#buckets.delete(k);
  }
}
