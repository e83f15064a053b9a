import { inspect } from 'node:util';

const REDACTED = '[REDACTED]';

/**
 * Marks a value as secret where it enters the system. It prints as [REDACTED] in
 * logs, JSON, string interpolation and util.inspect; only `reveal()` gives the value,
 * so every place that needs the plaintext is greppable.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
