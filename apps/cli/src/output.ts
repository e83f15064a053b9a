import { Connector, Protocol, Security, Strategy, enumKey } from '@postbote/proto';

export function connectorLines(c: Connector): string {
  const rows: Array<[string, string]> = [
    ['id', c.id],
    ['name', c.name],
    ['protocol', enumKey(Protocol, c.protocol)],
    ['server', `${c.host}:${c.port}`],
    ['security', enumKey(Security, c.security)],
    ['username', c.username],
    ['password', c.hasPassword ? '(set, write-only)' : '(not set)'],
    ['workflow', c.workflowId],
    ['enabled', String(c.enabled)],
    ['interval', `${c.pollIntervalSeconds}s`],
    ['batch', String(c.batchSize)],
    ['retention', `${c.retentionDays} days`],
    ['timeouts', `connect ${c.connectTimeoutMs}ms, fetch ${c.fetchTimeoutMs}ms`],
    ['reprocess', String(c.reprocess)],
  ];
  if (c.folder) {
    rows.push(['folder', c.folder], ['strategy', enumKey(Strategy, c.strategy) + (c.moveTo ? ` → ${c.moveTo}` : '')]);
  }
  if (c.trustedCaPem) rows.push(['trusted CA', `${(c.trustedCaPem.match(/BEGIN CERTIFICATE/g) ?? []).length} certificate(s)`]);
  rows.push(['revision', String(c.revision)], ['updated', c.updatedAt?.toISOString() ?? '']);
  return rows.map(([k, v]) => `${k.padEnd(10)} ${v}`).join('\n');
}

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function print(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write((json ? JSON.stringify(value, null, 2) : human()) + '\n');
}

export const connectorJson = (c: Connector) => Connector.toJSON(c);
