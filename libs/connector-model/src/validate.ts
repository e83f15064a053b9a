import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { Secret } from '@postbote/crypto';
import { PermissionDeniedError, ValidationError, hasControlCharacters, textProblem, type Violation } from '@postbote/errors';
import { DEFAULTS, LIMITS, defaultPort } from './defaults';
import { FIELDS, SECRET_FIELDS, applies, type TextKey, loginSecret, secretDestinationChanges, specField } from './fields';
import { sameFolder } from './folder-path';
import { presetOf } from './oauth-presets';
import {
  AUTH_TYPES,
  OAUTH_PROVIDERS,
  PROTOCOLS,
  SECRET_KEYS,
  SECURITIES,
  STRATEGIES,
  type AuthType,
  type ConnectorSettings,
  type OAuthProvider,
  type ConnectorSpecInput,
  type Protocol,
  type SecretKey,
  type Secrets,
  type Security,
  type Strategy,
} from './settings';

export interface Resolved {
  readonly settings: ConnectorSettings;
  /** The secrets the input carried (only those that apply to the connector's auth type). */
  readonly secrets: Secrets;
  /** Accepted but discouraged choices, for the response and the log. */
  readonly warnings: readonly string[];
}

// Strings that reach a mail server (host, user, password, folders) must not carry
// CR, LF or NUL: they would end the protocol line and smuggle a second command.
const LINE_BREAKERS = /[\r\n\0]/;
const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;
const IMAP_ONLY = ['folder', 'strategy', 'moveTo', 'push'] as const;
const OAUTH_ONLY = ['oauthProvider', 'oauthClientId', 'oauthTokenUrl', 'oauthScope'] as const;
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** Validates a new connector, filling defaults. Throws ValidationError listing every problem. */
export function resolveCreate(input: ConnectorSpecInput): Resolved {
  return resolve(input, undefined);
}

/**
 * Validates a change to a stored connector (`stored`: the secrets it has). Unset fields
 * keep their value; a secret is only replaced when given. A change of where a secret is
 * sent (server, port, security, trusted CA, token endpoint) needs the login secret — the
 * password, or the refresh token with OAUTH2 — in the same request, and a stored client
 * secret too when the token endpoint moves: whoever may edit a connector must not be able
 * to send its stored secrets to a server of their choosing (PERMISSION_DENIED, reason
 * PASSWORD_REQUIRED).
 */
export function resolveUpdate(current: ConnectorSettings, patch: ConnectorSpecInput, stored: readonly SecretKey[]): Resolved {
  const r = resolve(patch, current);
  const login = loginSecret(r.settings.authType);
  const moved = secretDestinationChanges(current, r.settings);
  const needed: SecretKey[] = moved.length > 0 && stored.includes(login) ? [login] : [];
  if (moved.includes('oauthTokenUrl') && r.settings.oauthTokenUrl !== null && stored.includes('oauthClientSecret')) needed.push('oauthClientSecret');
  if (moved.includes('proxyUrl') && r.settings.proxyUrl !== null && stored.includes('proxyPassword')) needed.push('proxyPassword');
  const missing = needed.filter((k) => !r.secrets[k]);
  if (missing.length > 0) {
    const names = missing.map((k) => SECRET_FIELDS[k].label.replace('OAuth2 ', '').toLowerCase()).join(' and ');
    throw new PermissionDeniedError(
      `${missing.map((k) => specField(k)).join(', ')}: changing ${moved.map((k) => specField(k)).join(', ')} decides where the stored ${names} ${missing.length > 1 ? 'are' : 'is'} sent; give the ${names} again`,
      { reason: 'PASSWORD_REQUIRED' },
    );
  }
  // A connector switching its auth type logs in with a secret it may not have yet.
  if (!r.secrets[login] && !stored.includes(login)) throw ValidationError.single(specField(login), 'required', `is required with auth_type ${r.settings.authType}`);
  return r;
}

function resolve(input: ConnectorSpecInput, current: ConnectorSettings | undefined): Resolved {
  const v = new Violations();
  const warnings: string[] = [];

  const protocol = v.enumOf('protocol', input.protocol, PROTOCOLS) ?? current?.protocol;
  if (protocol === undefined && v.clean('protocol')) v.add('protocol', 'required', `is required (one of ${PROTOCOLS.join(', ')})`);
  if (current && protocol && protocol !== current.protocol) {
    v.add('protocol', 'immutable', 'cannot change after creation; create a new connector instead');
  }

  const name = v.text('name', input.name, LIMITS.nameMaxLength) ?? current?.name;
  if (name === undefined && v.clean('name')) v.add('name', 'required', 'is required');

  const authType: AuthType = v.enumOf('authType', input.authType, AUTH_TYPES) ?? current?.authType ?? DEFAULTS.authType;
  const givenProvider = authType === 'OAUTH2' ? v.enumOf('oauthProvider', input.oauthProvider, OAUTH_PROVIDERS) : undefined;
  // A provider preset names the server when the connector does not (Microsoft 365, Gmail).
  const presetHost = authType === 'OAUTH2' && protocol ? presetOf(givenProvider ?? current?.oauthProvider)?.host[protocol] : undefined;
  const host = checkHost(v, input.host) ?? current?.host ?? presetHost;
  if (host === undefined && v.clean('host')) v.add('host', 'required', 'must not be empty');

  const username = v.text('username', input.username, LIMITS.usernameMaxLength) ?? current?.username;
  if (username === undefined && v.clean('username')) v.add('username', 'required', 'must not be empty');

  const proxyUrl = checkProxyUrl(v, input.proxyUrl, current?.proxyUrl ?? null);
  const secrets = checkSecrets(v, input, protocol, authType, proxyUrl);
  const login = loginSecret(authType);
  if (!current && !secrets[login] && v.clean(login)) v.add(login, 'required', 'is required when creating a connector');

  const security = v.enumOf('security', input.security, SECURITIES) ?? current?.security ?? DEFAULTS.security;

  let port = v.int('port', input.port, { min: 1, max: 65_535 });
  // A connector that switches security on update follows to that mode's usual port,
  // unless it was on a custom port (then we keep what the operator chose).
  if (port === undefined && current && protocol && current.port !== defaultPort(protocol, current.security)) port = current.port;
  if (port === undefined && protocol) port = defaultPort(protocol, security);

  const connectTimeoutMs = v.int('connectTimeoutMs', input.connectTimeoutMs, LIMITS.connectTimeoutMs) ?? current?.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  const fetchTimeoutMs = v.int('fetchTimeoutMs', input.fetchTimeoutMs, LIMITS.fetchTimeoutMs) ?? current?.fetchTimeoutMs ?? DEFAULTS.fetchTimeoutMs;
  const pollIntervalSeconds =
    v.int('pollIntervalSeconds', input.pollIntervalSeconds, LIMITS.pollIntervalSeconds) ?? current?.pollIntervalSeconds ?? DEFAULTS.pollIntervalSeconds;
  const batchSize = v.int('batchSize', input.batchSize, LIMITS.batchSize) ?? current?.batchSize ?? DEFAULTS.batchSize;
  const retentionDays = v.int('retentionDays', input.retentionDays, LIMITS.retentionDays) ?? current?.retentionDays ?? DEFAULTS.retentionDays;
  const reprocess = input.reprocess ?? current?.reprocess ?? DEFAULTS.reprocess;
  const enabled = input.enabled ?? current?.enabled ?? DEFAULTS.enabled;

  const workflowId = v.text('workflowId', input.workflowId, LIMITS.workflowIdMaxLength) ?? current?.workflowId;
  if (workflowId === undefined && v.clean('workflowId')) v.add('workflowId', 'required', 'must name the workflow to start');

  const imap = protocol === 'IMAP' ? resolveImap(v, input, current) : checkNoImapFields(v, input);
  const oauth = authType === 'OAUTH2' ? resolveOAuth(v, input, givenProvider, current, protocol) : checkNoOAuthFields(v, input);

  const trustedCaPem = checkTrustedCa(v, input.trustedCaPem, current?.trustedCaPem ?? null);
  if (trustedCaPem && security === 'NONE' && v.clean('trustedCaPem')) {
    v.add('trustedCaPem', 'requires-tls', 'only applies with security SSL or TLS');
  }

  if (v.any()) throw new ValidationError(v.list);

  if (security === 'NONE') {
    warnings.push('security NONE sends the password and every email in clear text; use SSL or TLS unless the server is on a trusted network');
  }
  if (protocol && port !== undefined) {
    const usual = defaultPort(protocol, security);
    const implicit = defaultPort(protocol, 'SSL');
    if (security === 'SSL' && port === defaultPort(protocol, 'TLS')) {
      warnings.push(`port ${port} usually speaks plain ${protocol} (use security TLS for STARTTLS); SSL expects TLS from the first byte, like port ${usual}`);
    } else if (security !== 'SSL' && port === implicit) {
      warnings.push(`port ${port} usually expects implicit TLS (security SSL)`);
    }
  }

  const settings: ConnectorSettings = Object.freeze({
    name: resolved(name, 'name'),
    protocol: resolved(protocol, 'protocol'),
    host: resolved(host, 'host'),
    port: resolved(port, 'port'),
    username: resolved(username, 'username'),
    security,
    connectTimeoutMs,
    fetchTimeoutMs,
    pollIntervalSeconds,
    batchSize,
    retentionDays,
    reprocess,
    workflowId: resolved(workflowId, 'workflowId'),
    enabled,
    ...imap,
    trustedCaPem,
    authType,
    ...oauth,
    proxyUrl,
  });
  return { settings, secrets, warnings };
}

// Every required value was either resolved or reported above; reaching here without
// one is a bug in this file, not bad input.
function resolved<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new Error(`connector validation left ${field} unresolved`);
  return value;
}

function checkHost(v: Violations, host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const value = host.trim();
  if (value === '') return void v.add('host', 'required', 'must not be empty');
  if (LINE_BREAKERS.test(value) || /\s/.test(value)) return void v.add('host', 'no-whitespace', 'must not contain whitespace, CR, LF or NUL');
  if (value.length > LIMITS.hostMaxLength) return void v.add('host', 'max-length', `must be at most ${LIMITS.hostMaxLength} characters`);
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (isIP(bare) === 0 && !HOSTNAME.test(value)) {
    return void v.add('host', 'hostname', 'must be a DNS name or an IP address (no scheme, port or path)');
  }
  return bare;
}

/** The secrets given, each checked; one that does not apply to the auth type is an error (it would be stored unused). */
function checkSecrets(v: Violations, input: ConnectorSpecInput, protocol: Protocol | undefined, authType: AuthType, proxyUrl: string | null): Secrets {
  const out: Partial<Record<SecretKey, Secret>> = {};
  for (const key of SECRET_KEYS) {
    const secret = input[key];
    if (secret === undefined) continue;
    if (!applies(key, protocol, authType, proxyUrl)) {
      if (key === 'proxyPassword') v.add(key, 'proxy-only', 'applies with a proxy_url only');
      else v.add(key, 'auth-type', `does not apply with auth_type ${authType}`);
      continue;
    }
    const value = secret.reveal();
    const max = key === 'password' ? LIMITS.passwordMaxLength : LIMITS.oauthSecretMaxLength;
    if (value === '') v.add(key, 'required', 'must not be empty');
    else if (LINE_BREAKERS.test(value)) v.add(key, 'no-line-break', 'must not contain CR, LF or NUL');
    else if (value.length > max) v.add(key, 'max-length', `must be at most ${max} characters`);
    else out[key] = secret;
  }
  return out;
}

type OAuthPart = Pick<ConnectorSettings, 'oauthProvider' | 'oauthClientId' | 'oauthTokenUrl' | 'oauthScope'>;

function checkNoOAuthFields(v: Violations, input: ConnectorSpecInput): OAuthPart {
  for (const key of OAUTH_ONLY) {
    if (input[key] !== undefined && input[key] !== '') v.add(key, 'oauth2-only', 'applies with auth_type OAUTH2 only');
  }
  return { oauthProvider: null, oauthClientId: null, oauthTokenUrl: null, oauthScope: null };
}

/**
 * OAUTH2 settings. A provider preset fills the token endpoint and scope unless given;
 * choosing another provider on update takes its preset again. The token endpoint receives
 * the refresh token and client secret, so it must be https (http only on loopback).
 */
function resolveOAuth(v: Violations, input: ConnectorSpecInput, given: OAuthProvider | undefined, current: ConnectorSettings | undefined, protocol: Protocol | undefined): OAuthPart {
  const provider = given ?? current?.oauthProvider ?? 'CUSTOM';
  const fresh = current?.authType !== 'OAUTH2' || (given !== undefined && given !== current.oauthProvider);
  const preset = presetOf(provider);
  const oauthClientId = v.text('oauthClientId', input.oauthClientId, LIMITS.oauthClientIdMaxLength) ?? current?.oauthClientId ?? null;
  if (oauthClientId === null && v.clean('oauthClientId')) v.add('oauthClientId', 'required', 'is required with auth_type OAUTH2');
  const oauthTokenUrl = checkTokenUrl(v, input.oauthTokenUrl) ?? (fresh ? preset?.tokenUrl : (current?.oauthTokenUrl ?? undefined)) ?? null;
  if (oauthTokenUrl === null && v.clean('oauthTokenUrl')) v.add('oauthTokenUrl', 'required', 'is required with oauth_provider CUSTOM (or choose MICROSOFT or GOOGLE)');
  let oauthScope: string | null;
  if (input.oauthScope !== undefined && input.oauthScope.trim() === '') oauthScope = null;
  else oauthScope = v.text('oauthScope', input.oauthScope, LIMITS.oauthScopeMaxLength) ?? (fresh ? (protocol ? preset?.scope[protocol] : undefined) : current?.oauthScope) ?? null;
  return { oauthProvider: provider, oauthClientId, oauthTokenUrl, oauthScope };
}

/**
 * The proxy a connector reaches its server through: SOCKS5 or HTTP CONNECT, host and port,
 * a user name at most — the password travels apart, write-only (proxy_password). "" clears it.
 */
function checkProxyUrl(v: Violations, raw: string | undefined, current: string | null): string | null {
  if (raw === undefined) return current;
  const value = raw.trim();
  if (value === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    v.add('proxyUrl', 'url', 'must be socks5://[user@]host:port or http://[user@]host:port');
    return null;
  }
  const problem =
    url.protocol !== 'socks5:' && url.protocol !== 'http:'
      ? ['scheme', 'must start with socks5:// or http:// (HTTP CONNECT)']
      : url.password
        ? ['no-password', 'must not carry a password (give it as proxy_password)']
        : !url.port
          ? ['port', 'must name the proxy\'s port']
          : (url.pathname !== '' && url.pathname !== '/') || url.search || url.hash
            ? ['host-port-only', 'must be scheme, optional user, host and port only']
            : hasControlCharacters(decodeURIComponent(url.username))
              ? ['no-control', 'must not contain control characters in the user name']
              : undefined;
  if (problem) {
    v.add('proxyUrl', problem[0] ?? 'url', problem[1] ?? '');
    return null;
  }
  return `${url.protocol}//${url.username ? `${url.username}@` : ''}${url.host}`;
}

function checkTokenUrl(v: Violations, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (value === '') return void v.add('oauthTokenUrl', 'required', 'must not be empty');
  if (value.length > LIMITS.oauthTokenUrlMaxLength) return void v.add('oauthTokenUrl', 'max-length', `must be at most ${LIMITS.oauthTokenUrlMaxLength} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return void v.add('oauthTokenUrl', 'url', 'must be an absolute https URL');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOST.test(url.hostname))) {
    return void v.add('oauthTokenUrl', 'https', 'must be an https URL (plain http only to a loopback address): the refresh token travels in it');
  }
  if (url.username || url.password) return void v.add('oauthTokenUrl', 'no-credentials', 'must not carry credentials (give the client secret as oauth_client_secret)');
  if (url.hash) return void v.add('oauthTokenUrl', 'no-fragment', 'must not have a #fragment');
  return url.href;
}

type ImapPart = Pick<ConnectorSettings, 'folder' | 'strategy' | 'moveTo' | 'push'>;

function checkNoImapFields(v: Violations, input: ConnectorSpecInput): ImapPart {
  for (const key of IMAP_ONLY) {
    if (input[key] !== undefined && input[key] !== '') v.add(key, 'imap-only', 'applies to IMAP connectors only (POP3 never changes the server mailbox)');
  }
  return { folder: null, strategy: null, moveTo: null, push: null };
}

function resolveImap(v: Violations, input: ConnectorSpecInput, current: ConnectorSettings | undefined): ImapPart {
  const folder = checkFolder(v, 'folder', input.folder) ?? current?.folder ?? DEFAULTS.folder;
  const strategy: Strategy = v.enumOf('strategy', input.strategy, STRATEGIES) ?? current?.strategy ?? DEFAULTS.strategy;
  const givenMoveTo = checkFolder(v, 'moveTo', input.moveTo);
  let moveTo: string | null = null;
  if (strategy === 'MOVE') {
    moveTo = givenMoveTo ?? current?.moveTo ?? null;
    if (moveTo === null && v.clean('moveTo')) v.add('moveTo', 'required-for-move', 'is required when strategy is MOVE');
    else if (moveTo !== null && sameFolder(moveTo, folder)) v.add('moveTo', 'differs-from-folder', 'must differ from the watched folder');
  } else if (givenMoveTo !== undefined) {
    // A stale target from an earlier MOVE is dropped silently; one given now is a mistake.
    v.add('moveTo', 'move-only', 'only applies when strategy is MOVE');
  }
  return { folder, strategy, moveTo, push: input.push ?? current?.push ?? DEFAULTS.push };
}

function checkFolder(v: Violations, key: 'folder' | 'moveTo', raw: string | undefined): string | undefined {
  if (raw === undefined || (key === 'moveTo' && raw === '')) return undefined;
  const value = raw.trim();
  if (value === '') return void v.add(key, 'required', 'must not be empty');
  const problem = textProblem(FIELDS[key].text, value);
  if (problem) return void v.add(key, problem.rule, problem.message);
  if (value.length > LIMITS.folderMaxLength) return void v.add(key, 'max-length', `must be at most ${LIMITS.folderMaxLength} characters`);
  if (value.split('/').some((s) => s.trim() === '')) {
    return void v.add(key, 'folder-path', 'must be folder names separated by single "/" (no leading, trailing or double "/")');
  }
  if (/[*%]/.test(value)) return void v.add(key, 'no-wildcard', 'must not contain the IMAP wildcards * or %');
  return value;
}

function checkTrustedCa(v: Violations, raw: string | undefined, current: string | null): string | null {
  if (raw === undefined) return current;
  if (raw.trim() === '') return null;
  if (Buffer.byteLength(raw) > LIMITS.trustedCaMaxBytes) {
    v.add('trustedCaPem', 'max-size', `must be at most ${LIMITS.trustedCaMaxBytes} bytes`);
    return null;
  }
  const blocks = raw.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) {
    v.add('trustedCaPem', 'pem', 'must contain at least one PEM certificate (-----BEGIN CERTIFICATE-----)');
    return null;
  }
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch {
      v.add('trustedCaPem', 'pem', 'contains a certificate that does not parse');
      return null;
    }
  }
  return blocks.join('\n') + '\n';
}

class Violations {
  readonly list: Violation[] = [];

  add(key: keyof ConnectorSettings | SecretKey, rule: string, message: string): void {
    this.list.push({ field: specField(key), rule, message });
  }

  clean(key: keyof ConnectorSettings | SecretKey): boolean {
    return !this.list.some((x) => x.field === specField(key));
  }

  any(): boolean {
    return this.list.length > 0;
  }

  /** A text setting, trimmed, checked by the rule its catalogue entry names (FIELDS[key].text). */
  text(key: TextKey, raw: string | undefined, max: number): string | undefined {
    if (raw === undefined) return undefined;
    const value = raw.trim();
    if (value === '') return void this.add(key, 'required', 'must not be empty');
    const problem = textProblem(FIELDS[key].text, value);
    if (problem) return void this.add(key, problem.rule, problem.message);
    if (value.length > max) return void this.add(key, 'max-length', `must be at most ${max} characters`);
    return value;
  }

  int(key: keyof ConnectorSettings, raw: number | undefined, range: { min: number; max: number }): number | undefined {
    if (raw === undefined) return undefined;
    if (!Number.isInteger(raw) || raw < range.min || raw > range.max) {
      return void this.add(key, 'range', `must be an integer between ${range.min} and ${range.max}`);
    }
    return raw;
  }

  enumOf<T extends string>(key: keyof ConnectorSettings, raw: string | undefined, allowed: readonly T[]): T | undefined {
    if (raw === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(raw)) return void this.add(key, 'enum', `must be one of ${allowed.join(', ')}`);
    return raw as T;
  }
}

export type { Protocol, Security };
