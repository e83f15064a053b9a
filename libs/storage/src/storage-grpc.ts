import { bidiStream, serverStream, unary, type ServiceRegistration } from '@postbote/grpc-runtime';
import { logLevelFromProto, logLevelToProto, metadataToProto } from '@postbote/contract';
import type { MessageSource, StoredEmailFacts } from '@postbote/connector-model';
import { ValidationError, requireUuid, textProblem } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import { LogLevel, StorageServiceService, type EmailMetadata, type StorageServiceServer } from '@postbote/proto';
import type { BlobMigration } from './blob-migration';
import type { ConnectorLog } from './connector-log';
import type { EmailStore, StoredEmail } from './email-store';
import type { StorageConnectors } from './storage-connectors';
import { serveStoreStream, type StreamBudget } from './store-stream';

const DOWNLOAD_CHUNK = 256 * 1024;
/** How far a log entry's time may lie from the storage service's clock before the clock wins. */
const LOG_TIME_AHEAD_MS = 5_000;
const LOG_TIME_BEHIND_MS = 10 * 60_000;

export function storageService(store: EmailStore, connectors: StorageConnectors, log: ConnectorLog, migration: BlobMigration, budget: StreamBudget, logger: Logger, now: () => Date): ServiceRegistration {
  const implementation: StorageServiceServer = {
    storeEmails: bidiStream(logger, 'StoreEmails', (requests, send) => serveStoreStream(store, connectors, requests, send, budget, logger)),
    findStoredSources: unary(logger, 'FindStoredSources', async (req) => {
      const connectorId = requireUuid('connector_id', req.connectorId);
      if (req.pop3Uidls.length > 100_000) throw ValidationError.single('pop3_uidls', 'max-items', 'at most 100000 per call');
      return { knownPop3Uidls: await store.knownPop3(connectorId, req.pop3Uidls) };
    }),
    getEmail: unary(logger, 'GetEmail', async (req, ctx) => emailToProto(await store.get(ctx.scope, requireUuid('email_id', req.emailId)))),
    listEmails: unary(logger, 'ListEmails', async (req, ctx) => {
      const connectorId = requireUuid('connector_id', req.connectorId);
      const search = { from: searchTerm('from', req.from), subject: searchTerm('subject', req.subject), messageId: searchTerm('message_id', req.messageId) };
      const page = await store.list({ scope: ctx.scope, connectorId, since: req.since, until: req.until, pageSize: req.pageSize, pageToken: req.pageToken, ...search });
      return { emails: page.items.map(emailToProto), nextPageToken: page.nextPageToken };
    }),
    countEmails: unary(logger, 'CountEmails', async (req, ctx) => {
      const connectorId = requireUuid('connector_id', req.connectorId);
      if (req.since.length > 16) throw ValidationError.single('since', 'max-items', 'at most 16 times per call');
      return store.count(ctx.scope, connectorId, req.since);
    }),
    downloadRawEmail: serverStream(logger, 'DownloadRawEmail', async (req, send, ctx) => {
      for await (const chunk of store.readRaw(ctx.scope, requireUuid('email_id', req.emailId))) {
        // gRPC messages stay well under the default 4 MiB limit of any client.
        for (let off = 0; off < chunk.length; off += DOWNLOAD_CHUNK) {
          if (ctx.signal.aborted) return;
          await send({ data: chunk.subarray(off, off + DOWNLOAD_CHUNK) });
        }
      }
    }),
    appendConnectorLog: unary(logger, 'AppendConnectorLog', async (req) => {
      const ids = req.entries.map((e, i) => requireUuid(`entries[${i}].connector_id`, e.connectorId));
      // The connector's workspace as storage knows it; '' until its event arrives (see StorageConnectors.upserted).
      const workspaces = await connectors.workspacesOf(ids);
      await log.append(
        req.entries.map((e, i) => ({
          workspace: workspaces.get(ids[i] ?? '') ?? '',
          connectorId: ids[i] ?? '',
          time: logTime(e.time, now()),
          level: logLevelFromProto(e.level, `entries[${i}].level`),
          code: e.code,
          message: e.message,
        })),
      );
      return {};
    }),
    migrateBlobs: unary(logger, 'MigrateBlobs', async (req) => {
      const after = req.afterEmailId ? requireUuid('after_email_id', req.afterEmailId) : '';
      if (req.maxEmails === 0) {
        const left = await migration.remaining();
        return { migratedEmails: 0, migratedBytes: 0, failures: [], nextAfterEmailId: after, done: left.emails === 0, remainingEmails: left.emails, remainingBytes: left.bytes };
      }
      return { ...(await migration.run(after, req.maxEmails)), remainingEmails: 0, remainingBytes: 0 };
    }),
    getWorkspaceUsage: unary(logger, 'GetWorkspaceUsage', async (_req, ctx) => (ctx.scope.every ? { storedBytes: 0, storedEmails: 0, maxStoredBytes: 0 } : store.workspaces.usage(ctx.scope.workspace))),
    listConnectorLog: unary(logger, 'ListConnectorLog', async (req, ctx) => {
      const connectorId = requireUuid('connector_id', req.connectorId);
      const min = req.minLevel === LogLevel.UNSPECIFIED ? 'DEBUG' : logLevelFromProto(req.minLevel, 'min_level');
      const page = await log.list(ctx.scope, connectorId, min, req.pageSize, req.pageToken);
      return {
        entries: page.entries.map((e) => ({ id: String(e.id), connectorId: e.connectorId, time: e.time, level: logLevelToProto(e.level), code: e.code, message: e.message })),
        nextPageToken: page.nextPageToken,
      };
    }),
  };
  return { name: 'postbote.v1.StorageService', definition: StorageServiceService, implementation };
}

/** A stored email's row as the model's facts (the mapping to the API is the contract's). */
function emailToProto({ row, metadata, eventPublishedAt }: StoredEmail): EmailMetadata {
  const source: MessageSource = row.sourceKind === 'IMAP' ? { kind: 'IMAP', folder: row.folder ?? '', uidValidity: row.uidValidity ?? 0, uid: row.uid ?? 0 } : { kind: 'POP3', uidl: row.uidl ?? '' };
  const facts: StoredEmailFacts = {
    id: row.id,
    connectorId: row.connectorId,
    workspace: row.workspaceId,
    source,
    size: row.size,
    sha256: row.sha256,
    parseError: row.parseError,
    storedAt: new Date(row.storedAt),
    receivedAt: new Date(row.receivedAt),
    eventId: row.eventId,
    eventPublishedAt: eventPublishedAt ? new Date(eventPublishedAt) : null,
  };
  return metadataToProto(facts, metadata);
}

/** A search term: at most a header line (998 characters), no control characters. */
function searchTerm(field: string, raw: string): string {
  const value = raw.trim();
  if (value.length > 998) throw ValidationError.single(field, 'max-length', 'must be at most 998 characters');
  const problem = textProblem('line', value);
  if (problem) throw ValidationError.single(field, problem.rule, problem.message);
  return value;
}

/**
 * Log times are the storage service's: a fetcher's own time is kept only when close to
 * ours (entries reach us in batches, seconds after they happened), so no caller can write
 * entries dated in the future (which retention would never remove) or far in the past.
 */
function logTime(claimed: Date | undefined, now: Date): Date {
  if (!claimed) return now;
  const delta = claimed.getTime() - now.getTime();
  return delta > LOG_TIME_AHEAD_MS || delta < -LOG_TIME_BEHIND_MS ? now : claimed;
}
