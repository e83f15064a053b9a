import type { ConnectorSettings, Protocol, Security, Strategy } from '@postbote/connector-model';
import { Connector, protocolToJSON, securityToJSON, strategyToJSON } from '@postbote/proto';
import type { FetchConnector } from './connector-actor';

const bare = (s: string) => s.replace(/^(PROTOCOL|SECURITY|STRATEGY)_/, '');

/** The connectors topic carries proto Connectors; actors work on domain settings. */
export function fetchConnectorFromProto(c: Connector): FetchConnector {
  const protocol = bare(protocolToJSON(c.protocol)) as Protocol;
  const settings: ConnectorSettings = {
    name: c.name,
    protocol,
    host: c.host,
    port: c.port,
    username: c.username,
    security: bare(securityToJSON(c.security)) as Security,
    connectTimeoutMs: c.connectTimeoutMs,
    fetchTimeoutMs: c.fetchTimeoutMs,
    pollIntervalSeconds: c.pollIntervalSeconds,
    batchSize: c.batchSize,
    retentionDays: c.retentionDays,
    reprocess: c.reprocess,
    workflowId: c.workflowId,
    enabled: c.enabled,
    imap: protocol === 'IMAP' ? { folder: c.folder || 'INBOX', strategy: bare(strategyToJSON(c.strategy)) as Strategy, moveTo: c.moveTo || null } : null,
    trustedCaPem: c.trustedCaPem || null,
  };
  return { id: c.id, revision: c.revision, settings };
}
