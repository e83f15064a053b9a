import type { Protocol, Security } from './settings';

/** Bounds every connector setting must respect. Documented in the README. */
export const LIMITS = Object.freeze({
  nameMaxLength: 100,
  hostMaxLength: 253,
  usernameMaxLength: 320,
  passwordMaxLength: 1024,
  /** Refresh tokens and client secrets: Microsoft's refresh tokens run to a few KB. */
  oauthSecretMaxLength: 16 * 1024,
  oauthClientIdMaxLength: 256,
  oauthTokenUrlMaxLength: 2048,
  oauthScopeMaxLength: 1024,
  workflowIdMaxLength: 200,
  folderMaxLength: 512,
  trustedCaMaxBytes: 64 * 1024,
  connectTimeoutMs: { min: 1_000, max: 300_000 },
  fetchTimeoutMs: { min: 1_000, max: 3_600_000 },
  /** The floor protects mail servers (and our users' accounts) from hammering. */
  pollIntervalSeconds: { min: 10, max: 86_400 },
  batchSize: { min: 1, max: 10_000 },
  /** 0 is refused: see docs/decisions/0004-retention-zero-refused.md. */
  retentionDays: { min: 1, max: 3_650 },
});

export const DEFAULTS = Object.freeze({
  security: 'SSL' as Security,
  connectTimeoutMs: 30_000,
  fetchTimeoutMs: 300_000,
  pollIntervalSeconds: 60,
  batchSize: 50,
  retentionDays: 30,
  reprocess: false,
  enabled: true,
  folder: 'INBOX',
  strategy: 'MARK_READ' as const,
  push: true,
  authType: 'PASSWORD' as const,
});

const PORTS: Record<Protocol, Record<Security, number>> = {
  POP3: { NONE: 110, TLS: 110, SSL: 995 },
  IMAP: { NONE: 143, TLS: 143, SSL: 993 },
};

/** The usual port for a protocol and security mode: POP3 110/995, IMAP 143/993. */
export function defaultPort(protocol: Protocol, security: Security): number {
  return PORTS[protocol][security];
}
