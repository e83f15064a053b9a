import { ValidationError, isUuid, type Violation } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import type { EmailBegin, EmailEnd, StoreEmailsRequest, StoreEmailsResponse, StoreSession } from '@postbote/proto';
import type { MessageSource } from '@postbote/connector-model';
import type { EmailStore, StoreSessionInfo } from './email-store';
import { IncomingEmail, type HashSource } from './incoming-email';
import type { StorageConnectors } from './storage-connectors';
import { sourceFromProto } from '@postbote/contract';
import { storageMetrics, workspaceLabel } from '@postbote/metrics';

export interface StreamBudget {
  /** Emails ended but not yet acknowledged before the stream stops reading. */
  readonly maxPendingEmails: number;
  /** Their bytes held in memory, likewise. */
  readonly maxPendingBytes: number;
}


interface Current {
  readonly seq: number;
  readonly body: IncomingEmail;
  /** Why this email cannot be stored, decided at its begin (its bytes are drained). */
  readonly invalid: string | undefined;
  readonly source: MessageSource | undefined;
  readonly begin: EmailBegin;
}

type Outcome = StoreEmailsResponse['outcome'];
const refused = (code: string, message: string): Outcome => ({ $case: 'refused', value: { code, message } });

/**
 * The server side of StoreEmails for one stream. An email is committed only after its
 * end arrived with the size and SHA-256 the client measured and both match what arrived
 * (and the size the mail server announced, when there was one). `hashes` 'sender': the
 * stream comes from this process's own fetcher, whose SHA-256 is taken, not measured again. Anything else — the
 * stream ending, being cancelled or failing before an email's end, an abort, a begin
 * before the end — stores nothing of that email. Acks go out in the order of the
 * begins, each after its email's commit. Reading stops while too much is pending, so a
 * client can run ahead but not without bound.
 */
export async function serveStoreStream(
  store: EmailStore,
  connectors: Pick<StorageConnectors, 'forStore'>,
  requests: AsyncIterable<StoreEmailsRequest>,
  send: (res: StoreEmailsResponse) => Promise<void>,
  budget: StreamBudget,
  logger: Logger,
  hashes: HashSource = 'measured',
): Promise<void> {
  const it = requests[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  if (first.value.part?.$case !== 'session') throw ValidationError.single('session', 'required', 'the first message of StoreEmails must be the session');
  const connectorId = checkSession(first.value.part.value);
  const known = await connectors.forStore(connectorId);
  const session: StoreSessionInfo = { connectorId, workspace: known.workspace, connectorName: known.name, workflowId: known.workflowId, reprocess: known.reprocess };

  let current: Current | undefined;
  let lastSeq = 0;
  let failure: unknown;
  // A failed email ends the stream at once, not at the client's next message: a client that
  // waits for its acknowledgements before sending more would otherwise wait for the deadline.
  // (One waiter per read, dropped after it: a race against one long-lived promise would
  // pile up a reaction per message on it.)
  let interrupt: ((err: unknown) => void) | undefined;
  let acks: Promise<void> = Promise.resolve();
  const inflight: Array<{ done: Promise<void>; bytes: number }> = [];
  let inflightBytes = 0;

  const acknowledge = (seq: number, outcome: Promise<Outcome>, bytes: number) => {
    outcome.catch(() => undefined);
    acks = acks.then(async () => {
      if (failure) return;
      try {
        await send({ seq, outcome: await outcome });
      } catch (err) {
        failure ??= err;
        interrupt?.(failure);
      }
    });
    const entry = { done: acks, bytes };
    inflight.push(entry);
    inflightBytes += bytes;
    void acks.then(() => {
      inflight.splice(inflight.indexOf(entry), 1);
      inflightBytes -= bytes;
    });
  };

  try {
    for (;;) {
      if (failure) throw failure;
      for (let oldest = inflight[0]; oldest && (inflight.length >= budget.maxPendingEmails || inflightBytes >= budget.maxPendingBytes); oldest = inflight[0]) await oldest.done;
      const next = await new Promise<IteratorResult<StoreEmailsRequest>>((resolve, reject) => {
        interrupt = reject;
        it.next().then(resolve, reject);
      });
      interrupt = undefined;
      if (next.done) break;
      const part = next.value.part;
      switch (part?.$case) {
        case 'begin': {
          if (current) throw ValidationError.single('begin', 'order', `email ${current.seq} was not ended or aborted before email ${part.value.seq} began`);
          if (part.value.seq <= lastSeq) throw ValidationError.single('begin.seq', 'order', 'must increase within a stream');
          lastSeq = part.value.seq;
          current = begin(part.value, store, hashes);
          break;
        }
        case 'data':
          if (!current) throw ValidationError.single('data', 'order', 'data must follow a begin');
          await current.body.append(part.value);
          break;
        case 'abort':
          if (!current || current.seq !== part.value.seq) throw ValidationError.single('abort.seq', 'order', 'must name the email in progress');
          await current.body.discard();
          current = undefined;
          break;
        case 'end': {
          if (!current || current.seq !== part.value.seq) throw ValidationError.single('end.seq', 'order', 'must name the email in progress');
          const email = current;
          current = undefined;
          acknowledge(email.seq, finish(store, session, email, part.value, logger), email.body.memoryBytes);
          break;
        }
        default:
          throw ValidationError.single('part', 'order', 'after the session only begin, data, end and abort may follow');
      }
    }
    await acks;
    if (failure) throw failure;
  } finally {
    // Whatever has no end is not an email: drop its bytes.
    await current?.body.discard();
  }
}

function begin(b: EmailBegin, store: EmailStore, hashes: HashSource): Current {
  const body = new IncomingEmail(store.incomingLimits, hashes);
  const problems = checkBegin(b);
  const source = b.source && problems.length === 0 ? sourceFromProto(b.source) : undefined;
  return { seq: b.seq, body, begin: b, invalid: problems.length ? problems.map((v) => `${v.field}: ${v.message}`).join('; ') : undefined, source };
}

async function finish(store: EmailStore, session: StoreSessionInfo, email: Current, end: EmailEnd, logger: Logger): Promise<Outcome> {
  const outcome = await decide(store, session, email, end, logger);
  const workspace = workspaceLabel(session.workspace);
  if (outcome?.$case === 'refused') storageMetrics.emails.inc({ workspace, result: outcome.value.code });
  else if (outcome?.$case === 'stored' && outcome.value.duplicate) storageMetrics.emails.inc({ workspace, result: 'duplicate' });
  else if (outcome?.$case === 'stored') {
    storageMetrics.emails.inc({ workspace, result: 'stored' });
    storageMetrics.bytes.inc({ workspace }, outcome.value.size);
  }
  return outcome;
}

async function decide(store: EmailStore, session: StoreSessionInfo, email: Current, end: EmailEnd, logger: Logger): Promise<Outcome> {
  const { body, begin: b } = email;
  try {
    const { source } = email;
    if (email.invalid || !source) return refused('INVALID_SOURCE', email.invalid ?? 'source coordinates missing');
    if (body.tooLarge) return refused('TOO_LARGE', `the email has ${body.size} bytes; this storage service accepts at most ${store.incomingLimits.maxBytes}`);
    const sha256 = body.finish(end.sha256);
    if (end.size !== body.size) return refused('SIZE_MISMATCH', `the client sent ${end.size} bytes but ${body.size} arrived: incomplete upload, nothing stored`);
    if (!sha256 || end.sha256.toLowerCase() !== sha256) return refused('HASH_MISMATCH', 'the bytes that arrived do not have the SHA-256 the client measured: nothing stored');
    if (b.announcedSize !== undefined && b.announcedSize !== body.size) {
      return refused('SIZE_MISMATCH', `the mail server announced ${b.announcedSize} bytes but ${body.size} were received: incomplete transfer, nothing stored`);
    }
    await body.seal();
    const verified = { session, source, occurrence: b.occurrence, receivedAt: b.receivedAt, sha256, size: body.size, body };
    // A large email's chunks go to the database while it is parsed, not in its group's commit.
    const [metadata, ahead] = await Promise.all([store.parse(body), store.writeAhead(verified)]);
    const r = await store.commit({ ...verified, metadata, ahead });
    if (r.overQuota) return refused('QUOTA_EXCEEDED', r.overQuota);
    if (!r.duplicate) logger.debug({ connectorId: session.connectorId, emailId: r.emailId, size: r.size, parseProblems: metadata.problems.length }, 'email stored');
    return { $case: 'stored', value: { emailId: r.emailId, duplicate: r.duplicate, sha256: r.sha256, size: r.size, eventId: r.eventId } };
  } finally {
    await body.discard();
  }
}

function checkSession(s: StoreSession): string {
  if (!isUuid(s.connectorId)) throw ValidationError.single('session.connector_id', 'uuid', 'must be a connector id (a UUID)');
  return s.connectorId.toLowerCase();
}

function checkBegin(b: EmailBegin): Violation[] {
  const v: Violation[] = [];
  const s = b.source?.source;
  if (s?.$case === 'imap') {
    if (!s.value.folder || s.value.folder.length > 512) v.push({ field: 'begin.source.imap.folder', rule: 'length', message: 'must be 1-512 characters' });
    if (!(s.value.uid > 0 && s.value.uid <= 0xffffffff)) v.push({ field: 'begin.source.imap.uid', rule: 'range', message: 'must be a UID (1 to 2^32-1)' });
    if (!(s.value.uidValidity > 0 && s.value.uidValidity <= 0xffffffff)) v.push({ field: 'begin.source.imap.uid_validity', rule: 'range', message: 'must be 1 to 2^32-1' });
  } else if (s?.$case === 'pop3') {
    if (!s.value.uidl || s.value.uidl.length > 255) v.push({ field: 'begin.source.pop3.uidl', rule: 'length', message: 'must be 1-255 characters' });
  } else {
    v.push({ field: 'begin.source', rule: 'required', message: 'must give IMAP (folder, uid_validity, uid) or POP3 (uidl) coordinates' });
  }
  if (b.occurrence.length > 128) v.push({ field: 'begin.occurrence', rule: 'max-length', message: 'must be at most 128 characters' });
  return v;
}
