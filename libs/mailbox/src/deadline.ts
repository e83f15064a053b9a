/**
 * Runs `work` with a deadline: when `ms` pass first, `onExpire` runs (it should cut the
 * connection so pending I/O fails fast) and the returned promise rejects with `error()`.
 * Also rejects when `signal` aborts (connector stopped or reconfigured).
 */
export async function withDeadline<T>(ms: number, work: Promise<T>, error: () => Error, onExpire: () => void, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpire();
      reject(error());
    }, ms);
    if (signal) {
      onAbort = () => {
        onExpire();
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    // The loser must not surface as an unhandled rejection.
    work.catch(() => undefined);
  }
}
