import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_WORKSPACE, accessOf, inWorkspace, mintToken, type AnyRole, type TokenAuthenticator, type TokenPrincipal } from '@postbote/auth';
import { Secret } from '@postbote/crypto';
import { PLAINTEXT_LOOPBACK, type ClientAuth } from '@postbote/grpc-runtime';
import type { ServiceSecurity } from '@postbote/service-clients';

/** The internal token of services a test starts in-process (plaintext on loopback). */
export const TEST_INTERNAL_TOKEN = new Secret('postbote-test-internal-token');
export const TEST_SECURITY: ServiceSecurity = Object.freeze({ transport: PLAINTEXT_LOOPBACK, internalToken: TEST_INTERNAL_TOKEN });

/** Calls as the fetcher does (the internal token). */
export const AS_FETCHER: ClientAuth = Object.freeze({ transport: PLAINTEXT_LOOPBACK, identity: { internalToken: TEST_INTERNAL_TOKEN } });

/** No credentials at all: what a stranger sends. */
export const AS_STRANGER: ClientAuth = Object.freeze({ transport: PLAINTEXT_LOOPBACK, identity: { certificate: true } as const });

/**
 * API tokens for services a test starts without a config service: pass `TEST_TOKENS` as
 * their `tokens` and call with `asRole(...)`.
 */
class TestTokens implements TokenAuthenticator {
  readonly #byToken = new Map<string, TokenPrincipal>();
  readonly #byRole = new Map<string, string>();

  /** A token with `role` in `workspace` (installation-admin: in every workspace). */
  token(role: AnyRole, workspace = DEFAULT_WORKSPACE): string {
    const key = `${role}\n${workspace}`;
    let token = this.#byRole.get(key);
    if (!token) {
      const minted = mintToken();
      token = minted.token;
      this.#byRole.set(key, token);
      this.#byToken.set(token, { kind: 'token', tokenId: minted.id, name: `test ${role}`, access: accessOf(role, workspace), expiresAt: null });
    }
    return token;
  }

  async authenticate(token: string): Promise<TokenPrincipal | null> {
    return this.#byToken.get(token) ?? null;
  }
}

export const TEST_TOKENS = new TestTokens();

export function asRole(role: AnyRole, workspace = DEFAULT_WORKSPACE): ClientAuth {
  return { transport: PLAINTEXT_LOOPBACK, identity: { token: new Secret(TEST_TOKENS.token(role, workspace)) } };
}

/** The first admin token a config service wrote into `dataDir` (or the file itself). */
export function adminAuthFrom(dataDirOrFile: string): ClientAuth {
  const file = dataDirOrFile.endsWith('.token') ? dataDirOrFile : join(dataDirOrFile, 'admin.token');
  return { transport: PLAINTEXT_LOOPBACK, identity: { token: new Secret(readFileSync(file, 'utf8').trim()) } };
}

/** Who made a change a test makes directly on the registry (the audit log's "who"). */
export const TEST_ACTOR = Object.freeze({ who: 'test', peer: '', workspace: DEFAULT_WORKSPACE });

/** Where a test's direct calls on a service's behaviour act: the default workspace. */
export const TEST_SCOPE = inWorkspace(DEFAULT_WORKSPACE);
