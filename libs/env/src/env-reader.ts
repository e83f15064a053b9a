import { readFileSync } from 'node:fs';
import { ConfigError } from '@postbote/errors';

/** The process environment, passed in so libraries and tests never touch process.env. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * Reads typed settings from an environment once, at boot. Every failure names the
 * variable (and never echoes a secret's value). Secrets also accept `NAME_FILE`,
 * the path of a file holding the value (Docker/Kubernetes secrets).
 */
export class EnvReader {
  constructor(
    private readonly env: Environment,
    private readonly readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  ) {}

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    const raw = this.env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    return raw.trim();
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined) throw new ConfigError(name, 'is required');
    return value;
  }

  int(name: string, fallback: number, range: { min: number; max: number }): number {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be an integer, got "${raw}"`);
    const value = Number(raw);
    if (value < range.min || value > range.max) {
      throw new ConfigError(name, `must be between ${range.min} and ${range.max}, got ${value}`);
    }
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(name, `must be true or false, got "${raw}"`);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
    }
    return raw as T;
  }

  list(name: string): string[] {
    const raw = this.string(name);
    if (raw === undefined) return [];
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
  }

  /** A secret from NAME or from the file named by NAME_FILE (not both). Never echoed. */
  secret(name: string): string | undefined {
    const direct = this.string(name);
    const file = this.string(`${name}_FILE`);
    if (direct !== undefined && file !== undefined) {
      throw new ConfigError(name, `set either ${name} or ${name}_FILE, not both`);
    }
    if (file === undefined) return direct;
    let content: string;
    try {
      content = this.readFile(file);
    } catch (err) {
      throw new ConfigError(`${name}_FILE`, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const value = content.trim();
    if (value === '') throw new ConfigError(`${name}_FILE`, `file ${file} is empty`);
    return value;
  }

  /** host:port, with the port checked. */
  address(name: string, fallback: string): string {
    const value = this.string(name, fallback);
    const m = /^(.+):(\d{1,5})$/.exec(value);
    if (!m || Number(m[2]) > 65535) throw new ConfigError(name, `must be host:port, got "${value}"`);
    return value;
  }
}
