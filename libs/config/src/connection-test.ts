import { RateLimiter } from '@postbote/auth';
import { imapPart, resolveCreate, resolveUpdate, type ConnectorSettings, type ConnectorSpecInput } from '@postbote/connector-model';
import type { Secret } from '@postbote/crypto';
import { ValidationError } from '@postbote/errors';
import { listImapFolders, testImap } from '@postbote/imap';
import { testPop3 } from '@postbote/pop3';
import type { ServerAccess, TestStepResult } from '@postbote/mailbox';
import type { Actor, AuditLog } from './audit-log';
import type { ConnectorRegistry } from './connector-registry';

export type TestTarget = { readonly ref: string; readonly overrides?: ConnectorSpecInput } | { readonly spec: ConnectorSpecInput };

/**
 * Connection tests and folder listings log in to a mail server. They are limited, so
 * nobody can use Postbote to hammer a server (or lock a mailbox's account with repeated
 * logins), and audited, since a stored password is used.
 */
export class ConnectionTests {
  /** Unsaved settings, per caller: a probe of arbitrary servers. */
  readonly #unsaved: RateLimiter;
  /** A stored connector, per connector: every test is a login with its password. */
  readonly #stored: RateLimiter;

  constructor(
    private readonly registry: ConnectorRegistry,
    private readonly audit: AuditLog,
    now: () => number,
    /** FETCHER_SOURCE_ADDRESS: a test goes out the way the fetcher's polls do. */
    private readonly sourceAddress: string | null = null,
  ) {
    this.#unsaved = new RateLimiter({ burst: 5, everyMs: 6_000, now, what: 'connection tests of unsaved settings' });
    this.#stored = new RateLimiter({ burst: 5, everyMs: 6_000, now, what: 'connection tests of this connector' });
  }

  async test(target: TestTarget, actor: Actor): Promise<TestStepResult[]> {
    const { settings, password } = await this.#resolve(target, actor, 'CONNECTION_TESTED');
    if (settings.protocol === 'IMAP') return testImap(access(settings, password, this.sourceAddress), imapPart(settings).folder);
    return testPop3(access(settings, password, this.sourceAddress));
  }

  async folders(target: TestTarget, actor: Actor): Promise<string[]> {
    const { settings, password } = await this.#resolve(target, actor, 'FOLDERS_LISTED');
    if (settings.protocol !== 'IMAP') throw ValidationError.single('protocol', 'imap-only', 'POP3 mailboxes have no folders');
    return listImapFolders(access(settings, password, this.sourceAddress));
  }

  /**
   * Settings and password: a stored connector (its stored password unless the overrides
   * carry one; overrides that change where the password goes need it again, as an update
   * does) or unsaved settings, validated like a create (name and workflow may be left out).
   */
  async #resolve(target: TestTarget, actor: Actor, action: 'CONNECTION_TESTED' | 'FOLDERS_LISTED'): Promise<{ settings: ConnectorSettings; password: Secret }> {
    if ('ref' in target) {
      const record = await this.registry.get(target.ref);
      const { settings, password } = target.overrides ? resolveUpdate(record, target.overrides) : { settings: record, password: undefined };
      this.#stored.take(record.id);
      const overridden = target.overrides ? Object.keys(target.overrides).filter((k) => target.overrides?.[k as keyof ConnectorSpecInput] !== undefined) : [];
      await this.audit.record(actor, action, { type: 'connector', id: record.id, name: record.name }, overridden.length ? `with changed ${overridden.join(', ')}` : '');
      return { settings, password: password ?? (await this.registry.credentials(record.id)).password };
    }
    const { settings, password } = resolveCreate({
      ...target.spec,
      name: target.spec.name ?? 'connection-test',
      workflowId: target.spec.workflowId ?? 'connection-test',
    });
    if (!password) throw ValidationError.single('spec.password', 'required', 'is required to test unsaved settings');
    this.#unsaved.take(actor.who);
    await this.audit.record(actor, action, undefined, `unsaved ${settings.protocol} settings for ${settings.host}:${settings.port}`);
    return { settings, password };
  }
}

function access(settings: ConnectorSettings, password: Secret, sourceAddress: string | null): ServerAccess {
  return {
    host: settings.host,
    port: settings.port,
    security: settings.security,
    trustedCaPem: settings.trustedCaPem,
    username: settings.username,
    password,
    connectTimeoutMs: settings.connectTimeoutMs,
    sourceAddress,
  };
}
