import { timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import { describePrincipal, grantsFor, isServiceIdentity, permitted, splitMethodPath, type Principal, type TokenAuthenticator } from '@postbote/auth';
import type { Secret } from '@postbote/crypto';
import { AuthenticationError, PermissionDeniedError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';

/** Metadata keys callers authenticate with. */
export const AUTHORIZATION_HEADER = 'authorization';
export const INTERNAL_TOKEN_HEADER = 'x-postbote-internal-token';

export interface GateCall {
  /** `/package.Service/Method` */
  readonly method: string;
  readonly metadata: Metadata;
  /** host:port of the caller, for logs and the audit log. */
  readonly peer: string;
  /** Common name of the client certificate, present only when the TLS handshake verified it. */
  readonly certificateName: string | undefined;
}

/** Decides who a call comes from and whether that caller may call the method; throws UNAUTHENTICATED or PERMISSION_DENIED. */
export type Gate = (call: GateCall) => Promise<Principal>;

export interface GateOptions {
  /** Who holds an API token (the config service's registry, or a cached remote lookup). */
  readonly tokens: TokenAuthenticator;
  /** The shared internal token, if this deployment uses one. */
  readonly internalToken: Secret | undefined;
  readonly logger: Logger;
}

/**
 * The one place every call is authenticated and authorized. An API token
 * (`authorization: Bearer pbt_…`) speaks for the call whenever one is presented — the web
 * console calls with its signed-in user's session token over a channel that also carries
 * its own service identity, and must get exactly that user's rights; an invalid token is
 * refused, never replaced by the channel's identity. Without a token: a verified client
 * certificate naming one of Postbote's services, then the internal token. Then the
 * permission table decides. Refusals are logged
 * with the caller's address, never with what it presented.
 */
export function createGate(options: GateOptions): Gate {
  const internal = options.internalToken ? Buffer.from(options.internalToken.reveal(), 'utf8') : null;
  return async (call) => {
    const principal = await identify(call, internal, options.tokens);
    if (!principal) {
      options.logger.info({ method: call.method, peer: call.peer }, 'call refused: no valid credentials');
      throw new AuthenticationError('this call needs credentials: an API token (authorization: Bearer pbt_…) or a service identity; the one presented is unknown, expired or revoked', { reason: 'UNAUTHENTICATED_CALLER' });
    }
    if (!permitted(principal, call.method)) {
      const { method } = splitMethodPath(call.method);
      const grants = grantsFor(call.method);
      options.logger.warn({ method: call.method, peer: call.peer, caller: describePrincipal(principal) }, 'call refused: not permitted');
      throw new PermissionDeniedError(
        `${describePrincipal(principal)} may not call ${method || call.method}${grants.length ? ` (needs ${grants.join(' or ')})` : ''}`,
        { reason: 'ROLE_NOT_PERMITTED' },
      );
    }
    return principal;
  };
}

async function identify(call: GateCall, internal: Buffer | null, tokens: TokenAuthenticator): Promise<Principal | null> {
  const authorization = call.metadata.get(AUTHORIZATION_HEADER)[0];
  if (authorization !== undefined) {
    const m = /^Bearer (\S+)$/i.exec(String(authorization));
    return m?.[1] ? tokens.authenticate(m[1]) : null;
  }
  if (call.certificateName && isServiceIdentity(call.certificateName)) return { kind: 'service', service: call.certificateName };
  const presentedInternal = call.metadata.get(INTERNAL_TOKEN_HEADER)[0];
  if (presentedInternal !== undefined) {
    const given = Buffer.from(String(presentedInternal), 'utf8');
    return internal && given.length === internal.length && timingSafeEqual(given, internal) ? { kind: 'service', service: 'internal' } : null;
  }
  return null;
}
