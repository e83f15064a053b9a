import { timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';
import {
  EVERY_WORKSPACE,
  WORKSPACE_ID_RULE,
  describePrincipal,
  grantsFor,
  homeWorkspace,
  inWorkspace,
  isServiceIdentity,
  isWorkspaceId,
  permitted,
  splitMethodPath,
  type Principal,
  type Scope,
  type TokenAuthenticator,
  type TokenPrincipal,
} from '@postbote/auth';
import type { Secret } from '@postbote/crypto';
import { AuthenticationError, PermissionDeniedError, ValidationError } from '@postbote/errors';
import type { Logger } from '@postbote/logging';

/** Metadata keys callers authenticate with. */
export const AUTHORIZATION_HEADER = 'authorization';
export const INTERNAL_TOKEN_HEADER = 'x-postbote-internal-token';
/** The workspace a call acts in (the CLI's `--workspace`, the console's chosen workspace). */
export const WORKSPACE_HEADER = 'x-postbote-workspace';

export interface GateCall {
  /** `/package.Service/Method` */
  readonly method: string;
  readonly metadata: Metadata;
  /** host:port of the caller, for logs and the audit log. */
  readonly peer: string;
  /** Common name of the client certificate, present only when the TLS handshake verified it. */
  readonly certificateName: string | undefined;
}

/** Who a call comes from and where it acts. */
export interface Admitted {
  readonly principal: Principal;
  readonly scope: Scope;
}

/** Decides who a call comes from, where it acts and whether that caller may call the method there; throws UNAUTHENTICATED, INVALID_ARGUMENT or PERMISSION_DENIED. */
export type Gate = (call: GateCall) => Promise<Admitted>;

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
 * certificate naming one of Postbote's services, then the internal token.
 *
 * Then the workspace: a token's call acts in the workspace `x-postbote-workspace` names, or
 * in its home workspace (see homeWorkspace); a service's call acts for every workspace.
 * The permission table decides with the role the caller holds *there*; a caller with no
 * role in the named workspace is refused whether or not that workspace exists, so nobody
 * learns of another customer's workspace by asking. Handlers receive the scope and read
 * and write only inside it. Refusals are logged with the caller's address, never with
 * what it presented.
 */
export function createGate(options: GateOptions): Gate {
  const internal = options.internalToken ? Buffer.from(options.internalToken.reveal(), 'utf8') : null;
  return async (call) => {
    const principal = await identify(call, internal, options.tokens);
    if (!principal) {
      options.logger.info({ method: call.method, peer: call.peer }, 'call refused: no valid credentials');
      throw new AuthenticationError('this call needs credentials: an API token (authorization: Bearer pbt_…) or a service identity; the one presented is unknown, expired or revoked', { reason: 'UNAUTHENTICATED_CALLER' });
    }
    const scope = principal.kind === 'service' ? EVERY_WORKSPACE : inWorkspace(workspaceOf(principal, call.metadata));
    const workspace = scope.every ? '' : scope.workspace;
    if (!permitted(principal, call.method, workspace)) {
      const { method } = splitMethodPath(call.method);
      const grants = grantsFor(call.method);
      const caller = describePrincipal(principal, workspace);
      options.logger.warn({ method: call.method, peer: call.peer, caller, workspace }, 'call refused: not permitted');
      throw new PermissionDeniedError(
        `${caller} may not call ${method || call.method}${scope.every ? '' : ` in workspace ${workspace}`}${grants.length ? ` (needs ${grants.join(' or ')})` : ''}`,
        { reason: 'ROLE_NOT_PERMITTED' },
      );
    }
    return { principal, scope };
  };
}

/** The workspace a token's call names, or its home workspace. */
function workspaceOf(principal: TokenPrincipal, metadata: Metadata): string {
  const named = metadata.get(WORKSPACE_HEADER)[0];
  if (named !== undefined) {
    const value = String(named);
    if (!isWorkspaceId(value)) throw ValidationError.single(WORKSPACE_HEADER, 'workspace-id', `must be a workspace id: ${WORKSPACE_ID_RULE}`);
    return value;
  }
  const home = homeWorkspace(principal);
  if (home === null) throw new PermissionDeniedError('this token holds no role in any workspace', { reason: 'ROLE_NOT_PERMITTED' });
  return home;
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
