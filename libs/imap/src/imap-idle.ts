import type { ImapFlow } from 'imapflow';
import type { KeptSession, ServerAccess } from '@postbote/mailbox';
import type { TailStart } from './imap-tail';

/** RFC 2177: a client re-issues IDLE at least every 29 minutes; servers may drop a quieter one at 30. */
export const IDLE_RESTART_MS = 25 * 60_000;

/**
 * A kept connection that closes sooner than this after it began waiting is not reopened at
 * once: a server that drops every IDLE would otherwise cost a login a second. The interval
 * poll takes over, and its run opens a new session.
 */
const MIN_LIFE_FOR_RECONNECT_MS = 60_000;

/** What a kept connection was opened for; a run for anything else opens its own. */
export function sessionKey(access: ServerAccess, folder: string): string {
  return JSON.stringify([access.host, access.port, access.security, access.username, access.sourceAddress ?? null, folder]);
}

/**
 * An IMAP connection kept between runs of a push connector, waiting in IDLE on the
 * connector's folder (the last run selected it). An announced message (EXISTS with a higher
 * count) wakes the actor — and so does a message marked unread again (a FETCH with FLAGS
 * without \Seen) while `wakeOnUnseen` is set, which the run sets for reprocess with
 * MARK_READ, the one setting under which such a message is new work. The woken actor's next
 * run takes this same connection: its first command ends
 * the IDLE, so no login is spent. Mail announced while a run holds the connection starts the
 * next run as soon as this one releases it. imapflow restarts IDLE every `IDLE_RESTART_MS`
 * and, when the socket is quiet for the socket timeout, probes with NOOP and closes a dead
 * connection; a connection that goes away drops the session (`onGone`), and one that had
 * been waiting a while wakes the actor to reconnect.
 */
export class IdleSession implements KeptSession {
  #busy = true;
  #pending = false;
  #closed = false;
  #looping = false;
  #since = 0;
  /** Set by each run from its settings: a message losing \Seen is new work (reprocess + MARK_READ). */
  wakeOnUnseen = false;
  /**
   * Set by each run that left nothing behind: every message with a UID up to this was
   * handled on this connection or is no candidate. A run woken by new mail alone then lists
   * only the UIDs above it (listTail, decision 0035); undefined, it searches the folder.
   */
  handledUpTo: number | undefined;
  /** What the server announced since a run last took the connection. */
  #announcedNew = false;
  #announcedFlags = false;
  /** The folder's messages at the last release, less those expunged since: where new ones start (by sequence number). */
  #known = 0;

  constructor(
    readonly client: ImapFlow,
    readonly access: ServerAccess,
    readonly key: string,
    private readonly wake: () => void,
    private readonly onGone: () => void,
    private readonly now: () => number = Date.now,
  ) {
    client.on('exists', (e: { count: number; prevCount: number }) => {
      if (e.count > e.prevCount) this.announced('new');
    });
    // Our own runs only add \Seen (and fetch with BODY.PEEK), so they never announce themselves here.
    client.on('flags', (e: { flags: Set<string> }) => {
      if (this.wakeOnUnseen && !e.flags.has('\\Seen') && !e.flags.has('\\Deleted')) this.announced('flags');
    });
    client.on('expunge', (e: { seq?: number }) => {
      if (typeof e.seq === 'number' && e.seq <= this.#known) this.#known--;
    });
    client.on('close', () => this.#gone());
  }

  /**
   * The server announced new work — new messages, or a message that is a candidate again
   * (`flags`) — a run now, or as soon as the current one releases the connection.
   */
  announced(what: 'new' | 'flags'): void {
    if (what === 'new') this.#announcedNew = true;
    else this.#announcedFlags = true;
    if (this.#busy) this.#pending = true;
    else this.wake();
  }

  get usable(): boolean {
    return !this.#closed && this.client.usable;
  }

  /**
   * A run takes the connection (its first command ends the IDLE); undefined when it is gone.
   * `tail`: where a run woken by new mail alone starts listing; undefined when it must
   * search — nothing was announced (the interval's run), a message became a candidate again,
   * or the last run left work behind.
   */
  take(): { client: ImapFlow; tail: TailStart | undefined } | undefined {
    if (!this.usable) return undefined;
    this.#busy = true;
    this.#socket()?.ref();
    const from = this.#announcedNew && !this.#announcedFlags ? this.handledUpTo : undefined;
    this.#announcedNew = this.#announcedFlags = false;
    this.handledUpTo = undefined;
    return { client: this.client, tail: from === undefined ? undefined : { from, after: this.#known } };
  }

  /** The run is done with it: wait in IDLE again; mail announced meanwhile starts the next run now. */
  release(): void {
    this.#busy = false;
    this.#known = this.client.mailbox ? this.client.mailbox.exists : 0;
    // A waiting connection never keeps a process alive (imapflow's own timers are unref'd
    // too); a service stays up by its servers, and stopping closes the session anyway.
    this.#socket()?.unref();
    this.#since = this.now();
    if (this.#pending) {
      this.#pending = false;
      this.wake();
    }
    void this.#loop();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // LOGOUT ends the IDLE first (imapflow sends DONE); a dead connection is just closed.
    if (this.client.usable) this.client.logout().catch(() => this.client.close());
    else this.client.close();
  }

  /** imapflow's socket (a runtime property its types do not declare). */
  #socket(): { ref(): unknown; unref(): unknown } | undefined {
    return (this.client as unknown as { socket?: { ref(): unknown; unref(): unknown } }).socket;
  }

  async #loop(): Promise<void> {
    if (this.#looping) return;
    this.#looping = true;
    try {
      while (!this.#busy && this.usable) {
        // false: the server refused IDLE (it advertised it); poll instead of spinning.
        if ((await this.client.idle()) === false) {
          this.close();
          return;
        }
      }
    } catch {
      // The connection failed; its 'close' event drops the session.
    } finally {
      this.#looping = false;
    }
  }

  #gone(): void {
    const expected = this.#closed;
    this.#closed = true;
    this.onGone();
    if (!expected && !this.#busy && this.now() - this.#since >= MIN_LIFE_FOR_RECONNECT_MS) this.wake();
  }
}
