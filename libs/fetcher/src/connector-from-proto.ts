import type { ConnectorSettings, Protocol, Security, Strategy } from '@postbote/connector-model';
import { Connector, Protocol as ProtoProtocol, Security as ProtoSecurity, Strategy as ProtoStrategy, enumKey } from '@postbote/proto';
import type { FetchConnector } from './connector-actor';

/** The connectors topic carries proto Connectors; actors work on domain settings. */
export function fetchConnectorFromProto(c: Connector): FetchConnector {
  const protocol = enumKey(ProtoProtocol, c.protocol) as Protocol;
  const settings: ConnectorSettings = {
    name: c.name,
    protocol,
    host: c.host,
    port: c.port,
    username: c.username,
    security: enumKey(ProtoSecurity, c.security) as Security,
    connectTimeoutMs: c.connectTimeoutMs,
    fetchTimeoutMs: c.fetchTimeoutMs,
    pollIntervalSeconds: c.pollIntervalSeconds,
    batchSize: c.batchSize,
    retentionDays: c.retentionDays,
    reprocess: c.reprocess,
    workflowId: c.workflowId,
    enabled: c.enabled,
    imap: protocol === 'IMAP' ? { folder: c.folder || 'INBOX', strategy: enumKey(ProtoStrategy, c.strategy) as Strategy, moveTo: c.moveTo || null } : null,
    trustedCaPem: c.trustedCaPem || null,
  };
  return { id: c.id, revision: c.revision, settings };
}
