import type { ConnectorSpecInput } from '@postbote/connector-model';
import { Secret } from '@postbote/crypto';
import { Connector, ConnectorSpec, Protocol, Security, Strategy, enumKey } from '@postbote/proto';
import type { ConnectorRecord } from './connector-record';

// Proto enums carry a prefix on the wire (PROTOCOL_POP3); the domain uses the bare
// names (POP3). UNSPECIFIED means "not given"; UNRECOGNIZED stays visible so the
// validator can name the field.
function enumName<E extends Record<string, string>>(e: E, value: E[keyof E] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const name = enumKey(e, value);
  return name === 'UNSPECIFIED' ? undefined : name;
}

export function specFromProto(spec: ConnectorSpec | undefined): ConnectorSpecInput {
  const s = spec ?? ConnectorSpec.fromPartial({});
  return {
    name: s.name,
    protocol: enumName(Protocol, s.protocol),
    host: s.host,
    port: s.port,
    username: s.username,
    // Marked secret where it enters: from here on it prints as [REDACTED].
    password: s.password === undefined ? undefined : new Secret(s.password),
    security: enumName(Security, s.security),
    connectTimeoutMs: s.connectTimeoutMs,
    fetchTimeoutMs: s.fetchTimeoutMs,
    pollIntervalSeconds: s.pollIntervalSeconds,
    batchSize: s.batchSize,
    retentionDays: s.retentionDays,
    reprocess: s.reprocess,
    workflowId: s.workflowId,
    enabled: s.enabled,
    folder: s.folder,
    strategy: enumName(Strategy, s.strategy),
    moveTo: s.moveTo,
    trustedCaPem: s.trustedCaPem,
  };
}

export function connectorToProto(r: ConnectorRecord): Connector {
  return Connector.fromPartial({
    id: r.id,
    name: r.name,
    protocol: Protocol[r.protocol],
    host: r.host,
    port: r.port,
    username: r.username,
    hasPassword: r.hasPassword,
    security: Security[r.security],
    connectTimeoutMs: r.connectTimeoutMs,
    fetchTimeoutMs: r.fetchTimeoutMs,
    pollIntervalSeconds: r.pollIntervalSeconds,
    batchSize: r.batchSize,
    retentionDays: r.retentionDays,
    reprocess: r.reprocess,
    workflowId: r.workflowId,
    enabled: r.enabled,
    folder: r.imap?.folder ?? '',
    strategy: r.imap ? Strategy[r.imap.strategy] : Strategy.UNSPECIFIED,
    moveTo: r.imap?.moveTo ?? '',
    trustedCaPem: r.trustedCaPem ?? '',
    revision: r.revision,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  });
}
