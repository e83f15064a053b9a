import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { MailboxError } from './mailbox-errors';

const MAX_CONTEXTS = 256;
const contexts = new Map<string, SecureContext>();

/**
 * The TLS context of a mail-server connection: TLS 1.2 or later, the system's CAs, and the
 * connector's own "trusted CA" *besides* them — Node's `ca` option alone would replace the
 * system CAs, and a server that moves to a public certificate must keep working. (A
 * connector's own CA list is built from Node's bundled roots, so NODE_EXTRA_CA_CERTS applies
 * only to connectors without one.) One context per distinct CA set, reused by every
 * connection: building it per connection showed in a quiet fleet's CPU profile.
 */
export function tlsContextFor(trustedCaPem: string | null): SecureContext {
  const key = trustedCaPem ?? '';
  const cached = contexts.get(key);
  if (cached) return cached;
  let context: SecureContext;
  try {
    context = createSecureContext({ minVersion: 'TLSv1.2', ...(trustedCaPem ? { ca: [...rootCertificates, trustedCaPem] } : {}) });
  } catch (err) {
    throw new MailboxError('TLS_FAILED', `the connector's trusted CA cannot be used: ${(err as Error).message}`, { cause: err });
  }
  if (contexts.size >= MAX_CONTEXTS) contexts.delete(contexts.keys().next().value as string);
  contexts.set(key, context);
  return context;
}
