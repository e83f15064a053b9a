import { roleIn, type Principal } from '@postbote/auth';
import type { Clock } from '@postbote/backoff';
import { AuthenticationError, PostboteError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';
import type { Admitted } from './gate';

/** How often a long-lived call's caller is decided again, and on which clock. */
export interface StreamWatch {
  readonly clock: Clock;
  /**
   * Re-check interval. A service's token answers are cached (TokenCache, 25 s), so a
   * revocation ends an open stream within cache + interval ≤ 30 s, the promise of
   * `docs/security.md`; the config service, which asks its registry directly, within this.
   */
  readonly recheckMs: number;
}

export const STREAM_RECHECK_MS = 5_000;

interface Watched {
  on(event: 'cancelled' | 'finish' | 'close', l: () => void): unknown;
}

/**
 * Keeps a streaming call to the rights it still has. Every `recheckMs`, and at the moment a
 * token expires, the gate decides again; if it refuses (the token was revoked, expired or
 * lost its role) or decides differently (another role in the workspace, another workspace),
 * `end` is called with an UNAUTHENTICATED error and the watch stops — the caller asks again
 * and gets what it may have now. A gate that cannot decide for the moment (the config
 * service unreachable: UNAVAILABLE) keeps the call, as the token cache's outage rule keeps
 * unary calls working, and is asked again next interval.
 */
export function watchCredentials(call: Watched, admitted: Admitted, decide: () => Promise<Admitted>, watch: StreamWatch, logger: Logger, method: string, end: (err: AuthenticationError) => void): void {
  let timer: unknown;
  let stopped = false;
  const stop = () => {
    stopped = true;
    watch.clock.clearTimer(timer);
  };
  for (const event of ['cancelled', 'finish', 'close'] as const) call.on(event, stop);

  const lapse = (why: string) => {
    if (stopped) return;
    stop();
    logger.info({ method, caller: describe(admitted.principal), why }, 'stream ended: its credentials no longer hold');
    end(new AuthenticationError(`the credentials this stream was opened with ${why}; call again`, { reason: 'CREDENTIALS_LAPSED' }));
  };
  const schedule = () => {
    const p = admitted.principal;
    const untilExpiry = p.kind === 'token' && p.expiresAt ? p.expiresAt.getTime() - watch.clock.now() : Infinity;
    timer = watch.clock.setTimer(Math.max(0, Math.min(watch.recheckMs, untilExpiry)), check);
  };
  const check = () => {
    if (stopped) return;
    const p = admitted.principal;
    if (p.kind === 'token' && p.expiresAt && p.expiresAt.getTime() <= watch.clock.now()) return lapse('expired');
    decide().then(
      (again) => {
        if (stopped) return;
        if (!sameVerdict(admitted, again)) return lapse('changed (another role or workspace)');
        schedule();
      },
      (err: unknown) => {
        if (stopped) return;
        if (err instanceof PostboteError && err.retryable) return schedule();
        lapse(err instanceof PostboteError && err.code === 'PERMISSION_DENIED' ? 'no longer permit this call' : 'are no longer valid (revoked or expired)');
      },
    );
  };
  schedule();
}

/** The same caller with the same rights in the same place. */
function sameVerdict(a: Admitted, b: Admitted): boolean {
  if (a.scope.every !== b.scope.every || (!a.scope.every && !b.scope.every && a.scope.workspace !== b.scope.workspace)) return false;
  const p = a.principal;
  const q = b.principal;
  if (p.kind === 'service' || q.kind === 'service') return p.kind === q.kind && p.kind === 'service' && q.kind === 'service' && p.service === q.service;
  const workspace = a.scope.every ? '' : a.scope.workspace;
  return p.tokenId === q.tokenId && roleIn(p, workspace) === roleIn(q, workspace);
}

const describe = (p: Principal) => (p.kind === 'service' ? `service ${p.service}` : `token ${p.tokenId}`);
