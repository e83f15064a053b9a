import { InvalidArgumentError, Option, type Command } from 'commander';
import { FIELDS, SECRET_KEYS, SETTING_KEYS, fieldInfo, flagHelp, flagsOf, keyOfApi, type ConnectorSpecInput, type FieldInfo, type SecretKey } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import { CliUsageError, fileFlag, readStdin } from './cli-support';

// The connector flags of `connector create` and `connector update`, derived from the field
// catalogue: each setting's flag, its help (scope, bounds, default), its choices, and how a
// flag's text becomes the setting's value. A new setting gets its flag by its entry alone.

/** What commander parsed: each flag under its camel-cased name. */
export type SpecFlags = Readonly<Record<string, string | boolean | undefined>>;

/** commander's attribute name for a flag: `connect-timeout` → `connectTimeout`. */
const attr = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

const argName = (f: FieldInfo) => (f.kind === 'pem' ? 'file' : f.kind === 'int' ? (f.unit ? { ms: 'ms', s: 'seconds', days: 'days' }[f.unit] : 'n') : f.kind === 'enum' ? 'choice' : 'value');

/** An enum flag as the model spells it, in any case and with - for _: mark-read → MARK_READ. */
function enumParser(values: readonly string[]): (raw: string) => string {
  return (raw) => {
    const value = raw.toUpperCase().replace(/-/g, '_');
    if (!values.includes(value)) throw new InvalidArgumentError(`Allowed choices are ${values.join(', ')} (any case).`);
    return value;
  };
}

/** Adds every setting's and secret's flags to a command. */
export function specOptions(cmd: Command): Command {
  for (const key of SETTING_KEYS) {
    const f: FieldInfo = FIELDS[key];
    const help = flagHelp(key);
    if (f.kind === 'bool') {
      cmd.option(`--${f.flag}`, help);
      cmd.option(`--${f.off ?? `no-${f.flag}`}`, `the opposite of --${f.flag}`);
    } else if (f.kind === 'enum') {
      cmd.addOption(new Option(`--${f.flag} <${argName(f)}>`, help).argParser(enumParser(f.values ?? [])));
    } else {
      cmd.option(`--${f.flag} <${argName(f)}>`, f.kind === 'pem' ? `${help}; a PEM file ("" to clear)` : f.optional ? `${help} ("" to clear)` : help);
    }
  }
  for (const key of SECRET_KEYS) {
    const f = fieldInfo(key);
    cmd.option(`--${f.flag}-stdin`, `read the ${f.label.en.toLowerCase()} from standard input (${f.help.en})`);
    cmd.option(`--${f.flag}-file <path>`, `read the ${f.label.en.toLowerCase()} from a file (or /dev/fd/N)`);
  }
  return cmd;
}

function intFlag(flag: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw new CliUsageError(`--${flag} must be a whole number`);
  return Number(raw);
}

/**
 * Secrets never travel on the command line, where ps and shell history would keep them:
 * they come from standard input or from a file (`/dev/fd/3` for a descriptor). Several
 * from standard input come one per line, in the catalogue's order (password, client
 * secret, refresh token, proxy password).
 */
async function secretsFrom(flags: SpecFlags, readFile: (p: string) => string): Promise<Partial<Record<SecretKey, Secret>>> {
  const fromStdin = SECRET_KEYS.filter((k) => flags[`${attr(fieldInfo(k).flag)}Stdin`]);
  for (const k of SECRET_KEYS) {
    const f = fieldInfo(k);
    if (flags[`${attr(f.flag)}Stdin`] && flags[`${attr(f.flag)}File`] !== undefined) throw new CliUsageError(`give the ${f.label.en.toLowerCase()} with --${f.flag}-stdin or --${f.flag}-file, not both`);
  }
  const lines = fromStdin.length === 0 ? [] : fromStdin.length === 1 ? [await readStdin()] : (await readStdin()).split(/\r?\n/);
  if (fromStdin.length > 1 && lines.length < fromStdin.length) {
    throw new CliUsageError(`${fromStdin.length} secrets from standard input need ${fromStdin.length} lines (${fromStdin.map((k) => fieldInfo(k).label.en.toLowerCase()).join(', ')}, in this order)`);
  }
  const out: Partial<Record<SecretKey, Secret>> = {};
  for (const k of SECRET_KEYS) {
    const f = fieldInfo(k);
    const file = flags[`${attr(f.flag)}File`];
    if (fromStdin.includes(k)) out[k] = new Secret(lines.shift() ?? '');
    else if (typeof file === 'string') out[k] = new Secret(fileFlag(`${f.flag}-file`, file, readFile).replace(/\r?\n$/, ''));
  }
  return out;
}

/** The connector spec the flags describe; a flag not given leaves its setting unset. */
export async function specFromFlags(flags: SpecFlags, readFile: (p: string) => string): Promise<ConnectorSpecInput> {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const f: FieldInfo = FIELDS[key];
    if (f.kind === 'bool') {
      const on = flags[attr(f.flag)];
      // `--x` / `--no-x` land on one attribute; an own off flag (`--disable`) on its own.
      const off = f.off ? flags[attr(f.off)] === true : on === false;
      if (on === true && off) throw new CliUsageError(`--${f.flag} and --${f.off ?? `no-${f.flag}`} exclude each other`);
      if (on === true || off) out[key] = on === true;
      continue;
    }
    const raw = flags[attr(f.flag)];
    if (typeof raw !== 'string') continue;
    if (f.kind === 'int') out[key] = intFlag(f.flag, raw);
    // Commander's parser already spelled an enum as the model does (enumParser).
    else if (f.kind === 'enum') out[key] = raw;
    else if (f.kind === 'pem') out[key] = raw === '' ? '' : fileFlag(f.flag, raw, readFile);
    else out[key] = raw;
  }
  return { ...(out as ConnectorSpecInput), ...(await secretsFrom(flags, readFile)) };
}

/** Whether the flags carry a secret (`--password-stdin`, `--refresh-token-file`, …). */
export function givesSecret(flags: SpecFlags, key: SecretKey): boolean {
  const f = fieldInfo(key);
  return Boolean(flags[`${attr(f.flag)}Stdin`]) || flags[`${attr(f.flag)}File`] !== undefined;
}

/** The flag a person types for an API field: `poll_interval_seconds` → `--interval`, `password` → `--password-stdin`. */
export function flagOfApi(api: string): string | undefined {
  const key = keyOfApi(api);
  return key === undefined ? undefined : (flagsOf(key)[0] ?? undefined);
}

/** A server's message with each `spec.<field>` named as the flag that sets it (`--interval: must be …`). */
export function withFlagNames(message: string): string {
  return message.replace(/\bspec\.([a-z_]+)/g, (whole, api: string) => flagOfApi(api) ?? whole);
}
