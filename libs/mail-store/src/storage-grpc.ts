import { clientStream, serverStream, unary, type ServiceRegistration } from '@postbote/grpc-runtime';
import { ValidationError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import {
  LogLevel,
  StorageServiceService,
  type Address,
  type EmailMetadata,
  type SourceCoordinates,
  type StorageServiceServer,
  type StoreEmailChunk,
  type StoreEmailHeader,
} from '@postbote/proto';
import type { ConnectorLog, ConnectorLogLevel } from './connector-log';
import type { EmailSource } from './dedupe-keys';
import type { EmailStore, StoredEmail } from './email-store';
import type { MailAddress } from './parse-metadata';

const DOWNLOAD_CHUNK = 256 * 1024;

export function storageService(store: EmailStore, log: ConnectorLog, logger: Logger): ServiceRegistration {
  const implementation: StorageServiceServer = {
    storeEmail: clientStream(logger, 'StoreEmail', async (requests: AsyncIterable<StoreEmailChunk>) => {
      const it = requests[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done || first.value.part?.$case !== 'header') {
        throw ValidationError.single('header', 'required', 'the first message of StoreEmail must be the header');
      }
      const header = first.value.part.value;
      const body = (async function* () {
        for (;;) {
          const next = await it.next();
          if (next.done) return;
          if (next.value.part?.$case !== 'data') throw ValidationError.single('data', 'order', 'only data may follow the header');
          yield next.value.part.value;
        }
      })();
      const res = await store.store(
        {
          connectorId: header.connectorId,
          connectorName: header.connectorName,
          workflowId: header.workflowId,
          source: sourceFromProto(header),
          size: header.size,
          reprocess: header.reprocess,
          occurrence: header.occurrence,
          receivedAt: header.receivedAt,
        },
        body,
      );
      return { emailId: res.emailId, duplicate: res.duplicate, sha256: res.sha256, size: res.size, eventId: res.eventId };
    }),
    findStoredSources: unary(logger, 'FindStoredSources', async (req) => {
      if (!req.connectorId) throw ValidationError.single('connector_id', 'required', 'must not be empty');
      if (req.pop3Uidls.length > 100_000) throw ValidationError.single('pop3_uidls', 'max-items', 'at most 100000 per call');
      return { knownPop3Uidls: await store.knownPop3(req.connectorId, req.pop3Uidls) };
    }),
    getEmail: unary(logger, 'GetEmail', async (req) => metadataToProto(await store.get(req.emailId))),
    listEmails: unary(logger, 'ListEmails', async (req) => {
      if (!req.connectorId) throw ValidationError.single('connector_id', 'required', 'must not be empty');
      const page = await store.list({ connectorId: req.connectorId, since: req.since, until: req.until, pageSize: req.pageSize, pageToken: req.pageToken });
      return { emails: page.items.map(metadataToProto), nextPageToken: page.nextPageToken };
    }),
    downloadRawEmail: serverStream(logger, 'DownloadRawEmail', async (req, send, ctx) => {
      for await (const chunk of store.readRaw(req.emailId)) {
        // gRPC messages stay well under the default 4 MiB limit of any client.
        for (let off = 0; off < chunk.length; off += DOWNLOAD_CHUNK) {
          if (ctx.signal.aborted) return;
          await send({ data: chunk.subarray(off, off + DOWNLOAD_CHUNK) });
        }
      }
    }),
    appendConnectorLog: unary(logger, 'AppendConnectorLog', async (req) => {
      await log.append(
        req.entries.map((e, i) => ({
          connectorId: e.connectorId,
          time: e.time ?? new Date(),
          level: levelFromProto(e.level, `entries[${i}].level`),
          code: e.code,
          message: e.message,
        })),
      );
      return {};
    }),
    listConnectorLog: unary(logger, 'ListConnectorLog', async (req) => {
      if (!req.connectorId) throw ValidationError.single('connector_id', 'required', 'must not be empty');
      const min = req.minLevel === LogLevel.UNSPECIFIED ? 'DEBUG' : levelFromProto(req.minLevel, 'min_level');
      const page = await log.list(req.connectorId, min, req.pageSize, req.pageToken);
      return {
        entries: page.entries.map((e) => ({ id: String(e.id), connectorId: e.connectorId, time: e.time, level: LogLevel[e.level], code: e.code, message: e.message })),
        nextPageToken: page.nextPageToken,
      };
    }),
  };
  return { name: 'postbote.v1.StorageService', definition: StorageServiceService, implementation };
}

function levelFromProto(level: LogLevel, field: string): ConnectorLogLevel {
  const name = (Object.keys(LogLevel) as Array<keyof typeof LogLevel>).find((k) => LogLevel[k] === level);
  if (!name || name === 'UNSPECIFIED' || name === 'UNRECOGNIZED') throw ValidationError.single(field, 'enum', 'must be DEBUG, INFO, WARN or ERROR');
  return name;
}

function sourceFromProto(h: StoreEmailHeader): EmailSource {
  const s = h.source?.source;
  if (s?.$case === 'imap') return { kind: 'IMAP', folder: s.value.folder, uidValidity: s.value.uidValidity, uid: s.value.uid };
  if (s?.$case === 'pop3') return { kind: 'POP3', uidl: s.value.uidl };
  throw ValidationError.single('header.source', 'required', 'must give IMAP (folder, uid_validity, uid) or POP3 (uidl) coordinates');
}

export function sourceToProto(e: StoredEmail['row']): SourceCoordinates {
  return e.sourceKind === 'IMAP'
    ? { source: { $case: 'imap', value: { folder: e.folder ?? '', uidValidity: e.uidValidity ?? 0, uid: e.uid ?? 0 } } }
    : { source: { $case: 'pop3', value: { uidl: e.uidl ?? '' } } };
}

const addr = (a: MailAddress): Address => ({ name: a.name, address: a.address });

export function metadataToProto({ row, metadata: m }: StoredEmail): EmailMetadata {
  return {
    id: row.id,
    connectorId: row.connectorId,
    source: sourceToProto(row),
    from: m.from ? addr(m.from) : undefined,
    to: m.to.map(addr),
    cc: m.cc.map(addr),
    replyTo: m.replyTo.map(addr),
    subject: m.subject,
    date: m.date ? new Date(m.date) : undefined,
    messageId: m.messageId,
    inReplyTo: m.inReplyTo,
    references: m.references,
    textPreview: m.textPreview,
    htmlPreview: m.htmlPreview,
    attachments: m.attachments.map((a) => ({ fileName: a.fileName, contentType: a.contentType, size: a.size, sha256: a.sha256 })),
    size: row.size,
    sha256: row.sha256,
    parseError: row.parseError ?? '',
    storedAt: new Date(row.storedAt),
    receivedAt: new Date(row.receivedAt),
    eventId: row.eventId,
  };
}
