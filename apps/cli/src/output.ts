import { connectorFromProto } from '@postbote/contract';
import { FIELDS, SECRET_FIELDS, SECRET_KEYS, SETTING_KEYS, applies, type FieldInfo } from '@postbote/connector-model';
import { Connector } from '@postbote/proto';
import { forTerminal, oneLine } from './terminal';

/** A setting's value as a person reads it (driven by its kind and unit in FIELDS). */
function shown(info: FieldInfo, value: unknown): string {
  if (info.kind === 'pem') return `${(String(value).match(/BEGIN CERTIFICATE/g) ?? []).length} certificate(s)`;
  if (info.kind === 'bool') return value ? 'yes' : 'no';
  return info.unit ? `${String(value)} ${info.unit}` : String(value);
}

/** Every setting the connector has, in the catalogue's order, labelled as FIELDS says. */
export function connectorLines(proto: Connector): string {
  const c = connectorFromProto(proto);
  const rows: Array<[string, string]> = [['Id', c.id]];
  for (const key of SETTING_KEYS) if (c[key] !== null) rows.push([FIELDS[key].label.en, shown(FIELDS[key], c[key])]);
  // Secrets show only whether they are stored.
  for (const key of SECRET_KEYS) {
    if (applies(key, c.protocol, c.authType, c.proxyUrl)) rows.push([SECRET_FIELDS[key].label.en, c.secretsSet.includes(key) ? '(set, write-only)' : '(not set)']);
  }
  rows.push(['Revision', String(c.revision)], ['Updated', c.updatedAt.toISOString()]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${oneLine(v)}`).join('\n');
}

export function table(headers: string[], given: string[][]): string {
  const rows = given.map((r) => r.map(oneLine));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `--json`: the value exactly; otherwise the human text with terminal controls escaped (see terminal.ts). */
export function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : forTerminal(human())) + '\n');
}

export const connectorJson = (c: Connector) => Connector.toJSON(c);
