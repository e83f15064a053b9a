import { imapPart, resolveCreate, resolveUpdate, type ConnectorSettings, type ConnectorSpecInput } from '@postbote/connector-model';
import type { Secret } from '@postbote/crypto';
import { ValidationError } from '@postbote/errors';
import { listImapFolders, testImap } from '@postbote/imap';
import { testPop3 } from '@postbote/pop3';
import type { ServerAccess, TestStepResult } from '@postbote/mailbox';
import type { ConnectorRegistry } from './connector-registry';

export type TestTarget = { readonly ref: string; readonly overrides?: ConnectorSpecInput } | { readonly spec: ConnectorSpecInput };

/**
 * Settings and password for TestConnection/ListFolders: a stored connector (its stored
 * password unless the overrides carry one) or unsaved settings, validated like a create
 * (name and workflow may be left out for a test).
 */
export async function resolveTarget(registry: ConnectorRegistry, target: TestTarget): Promise<{ settings: ConnectorSettings; password: Secret }> {
  if ('ref' in target) {
    const record = await registry.get(target.ref);
    const { settings, password } = target.overrides ? resolveUpdate(record, target.overrides) : { settings: record, password: undefined };
    return { settings, password: password ?? (await registry.credentials(record.id)).password };
  }
  const { settings, password } = resolveCreate({
    ...target.spec,
    name: target.spec.name ?? 'connection-test',
    workflowId: target.spec.workflowId ?? 'connection-test',
  });
  if (!password) throw ValidationError.single('spec.password', 'required', 'is required to test unsaved settings');
  return { settings, password };
}

function access(settings: ConnectorSettings, password: Secret): ServerAccess {
  return {
    host: settings.host,
    port: settings.port,
    security: settings.security,
    trustedCaPem: settings.trustedCaPem,
    username: settings.username,
    password,
    connectTimeoutMs: settings.connectTimeoutMs,
  };
}

export async function testConnection(registry: ConnectorRegistry, target: TestTarget): Promise<TestStepResult[]> {
  const { settings, password } = await resolveTarget(registry, target);
  if (settings.protocol === 'IMAP') return testImap(access(settings, password), imapPart(settings).folder);
  return testPop3(access(settings, password));
}

export async function listFolders(registry: ConnectorRegistry, target: TestTarget): Promise<string[]> {
  const { settings, password } = await resolveTarget(registry, target);
  if (settings.protocol !== 'IMAP') throw ValidationError.single('protocol', 'imap-only', 'POP3 mailboxes have no folders');
  return listImapFolders(access(settings, password));
}
