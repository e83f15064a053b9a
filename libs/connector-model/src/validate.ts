import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { Secret } from '@postbote/crypto';
import { PermissionDeniedError, ValidationError, hasControlCharacters, textProblem, type TextKind, type Violation } from '@postbote/errors';
import { DEFAULTS, defaultPort } from './defaults';
import { AUTH_TYPES, OAUTH_PROVIDERS, PROTOCOLS, type AuthType, type OAuthProvider, type Protocol, type Security, type Strategy } from './enums';
import {
  FIELDS,
  SECRET_FIELDS,
  SECRET_KEYS,
  SETTING_KEYS,
  applies,
  loginSecret,
  secretDestinationChanges,
  specField,
  type ConnectorSettings,
  type FieldInfo,
  type SecretKey,
  type SettingKey,
} from './fields';
import { sameFolder } from './folder-path';
import { presetOf } from './oauth-presets';
import type { ConnectorSpecInput, Secrets } from './settings';

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
const LOOPBACK_HOST = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/**
 * The settings with a rule of their own below (a format, a preset, another setting they
 * depend on). Every other setting is checked by its catalogue entry alone — kind, range,
 * length, text rule, default, required — so a new plain setting needs no code here.
 */
const OWN_RULES = new Set<SettingKey>(['protocol', 'authType', 'proxyUrl', 'host', 'port', 'folder', 'moveTo', 'oauthProvider', 'oauthTokenUrl', 'oauthScope']);

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
    const names = missing.map((k) => SECRET_FIELDS[k].label.en.replace('OAuth2 ', '').toLowerCase()).join(' and ');
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
  const given = input as Readonly<Partial<Record<SettingKey, unknown>>>;
  const out: Partial<Record<SettingKey, unknown>> = {};

  // First what decides which settings apply: the protocol, the login and the proxy.
  const protocol = v.enumOf('protocol', input.protocol, PROTOCOLS) ?? current?.protocol;
  if (protocol === undefined && v.clean('protocol')) v.add('protocol', 'required', `is required (one of ${PROTOCOLS.join(', ')})`);
  if (current && protocol && protocol !== current.protocol) {
    v.add('protocol', 'immutable', 'cannot change after creation; create a new connector instead');
  }
  const authType: AuthType = v.enumOf('authType', input.authType, AUTH_TYPES) ?? current?.authType ?? DEFAULTS.authType;
  const proxyUrl = checkProxyUrl(v, input.proxyUrl, current?.proxyUrl ?? null);
  Object.assign(out, { protocol, authType, proxyUrl });

  for (const key of SETTING_KEYS) {
    if (!applies(key, protocol, authType)) {
      notApplicable(v, key, given[key], authType);
      out[key] = null;
    } else if (!OWN_RULES.has(key)) {
      out[key] = plain(v, key, given[key], current?.[key], authType);
    }
  }

  const givenProvider = authType === 'OAUTH2' ? v.enumOf('oauthProvider', input.oauthProvider, OAUTH_PROVIDERS) : undefined;
  // A provider preset names the server when the connector does not (Microsoft 365, Gmail).
  const presetHost = authType === 'OAUTH2' && protocol ? presetOf(givenProvider ?? current?.oauthProvider)?.host[protocol] : undefined;
  out.host = checkHost(v, input.host) ?? current?.host ?? presetHost;
  if (out.host === undefined && v.clean('host')) v.add('host', 'required', 'is required');

  const secrets = checkSecrets(v, input, protocol, authType, proxyUrl);
  const login = loginSecret(authType);
  if (!current && !secrets[login] && v.clean(login)) v.add(login, 'required', 'is required when creating a connector');

  const security = out.security as Security;
  let port = v.int('port', input.port, FIELDS.port);
  // A connector that switches security on update follows to that mode's usual port,
  // unless it was on a custom port (then we keep what the operator chose).
  if (port === undefined && current && protocol && current.port !== defaultPort(protocol, current.security)) port = current.port;
  if (port === undefined && protocol) port = defaultPort(protocol, security);
  out.port = port;

  if (protocol === 'IMAP') Object.assign(out, resolveImap(v, input, current, out.strategy as Strategy));
  if (authType === 'OAUTH2') Object.assign(out, resolveOAuth(v, input, givenProvider, current, protocol));

  if (out.trustedCaPem && security === 'NONE' && v.clean('trustedCaPem')) {
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

  // Every setting was resolved or reported above; one missing here is a bug in this file, not bad input.
  const missing = SETTING_KEYS.filter((k) => out[k] === undefined);
  if (missing.length > 0) throw new Error(`connector validation left ${missing.join(', ')} unresolved`);
  const settings = Object.freeze(Object.fromEntries(SETTING_KEYS.map((k) => [k, out[k]]))) as unknown as ConnectorSettings;
  return { settings, secrets, warnings };
}

/** A setting given for a connector it does not apply to (an IMAP setting on POP3, an OAuth2 one with a password). */
function notApplicable(v: Violations, key: SettingKey, raw: unknown, authType: AuthType): void {
  if (raw === undefined || raw === '') return;
  const f: FieldInfo = FIELDS[key];
  if (f.protocols) v.add(key, `${f.protocols.join('-').toLowerCase()}-only`, `applies to ${f.protocols.join(', ')} connectors only`);
  else if (f.auth) v.add(key, `${f.auth.join('-').toLowerCase()}-only`, `applies with auth_type ${f.auth.join(', ')} only (this connector: ${authType})`);
}

/**
 * A setting checked by its catalogue entry alone: the given value by its kind, else the
 * stored one, else the default; a required one without any is reported. An optional text
 * given empty is cleared.
 */
function plain(v: Violations, key: SettingKey, raw: unknown, stored: unknown, authType: AuthType): unknown {
  const f: FieldInfo = FIELDS[key];
  if (f.optional && typeof raw === 'string' && raw.trim() === '') return null;
  const value =
    f.kind === 'int' ? v.int(key, raw, f) : f.kind === 'bool' ? v.bool(key, raw) : f.kind === 'enum' ? v.enumOf(key, raw, f.values ?? []) : f.kind === 'pem' ? v.pem(key, raw, f) : v.text(key, raw, f);
  const result = value ?? stored ?? f.default;
  if (result !== undefined && result !== null) return result;
  if (f.optional) return null;
  if (v.clean(key)) v.add(key, 'required', f.auth ? `is required with auth_type ${authType}` : 'is required');
  return undefined;
}

function checkHost(v: Violations, host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const value = host.trim();
  const max = FIELDS.host.maxLength;
  if (value === '') return void v.add('host', 'required', 'is required');
  if (LINE_BREAKERS.test(value) || /\s/.test(value)) return void v.add('host', 'no-whitespace', 'must not contain whitespace, CR, LF or NUL');
  if (value.length > max) return void v.add('host', 'max-length', `must be at most ${max} characters`);
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
    const max = SECRET_FIELDS[key].maxLength;
    if (value === '') v.add(key, 'required', 'must not be empty');
    else if (LINE_BREAKERS.test(value)) v.add(key, 'no-line-break', 'must not contain CR, LF or NUL');
    else if (value.length > max) v.add(key, 'max-length', `must be at most ${max} characters`);
    else out[key] = secret;
  }
  return out;
}

/**
 * OAUTH2 settings beside the client id. A provider preset fills the token endpoint and scope
 * unless given; choosing another provider on update takes its preset again. The token
 * endpoint receives the refresh token and client secret, so it must be https (http only on loopback).
 */
function resolveOAuth(v: Violations, input: ConnectorSpecInput, given: OAuthProvider | undefined, current: ConnectorSettings | undefined, protocol: Protocol | undefined) {
  const provider = given ?? current?.oauthProvider ?? DEFAULTS.oauthProvider;
  const fresh = current?.authType !== 'OAUTH2' || (given !== undefined && given !== current.oauthProvider);
  const preset = presetOf(provider);
  const oauthTokenUrl = checkTokenUrl(v, input.oauthTokenUrl) ?? (fresh ? preset?.tokenUrl : (current?.oauthTokenUrl ?? undefined)) ?? null;
  if (oauthTokenUrl === null && v.clean('oauthTokenUrl')) v.add('oauthTokenUrl', 'required', 'is required with oauth_provider CUSTOM (or choose MICROSOFT or GOOGLE)');
  let oauthScope: string | null;
  if (input.oauthScope !== undefined && input.oauthScope.trim() === '') oauthScope = null;
  else oauthScope = v.text('oauthScope', input.oauthScope, FIELDS.oauthScope) ?? (fresh ? (protocol ? preset?.scope[protocol] : undefined) : current?.oauthScope) ?? null;
  return { oauthProvider: provider, oauthTokenUrl, oauthScope };
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
  if (value.length > FIELDS.oauthTokenUrl.maxLength) return void v.add('oauthTokenUrl', 'max-length', `must be at most ${FIELDS.oauthTokenUrl.maxLength} characters`);
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

/** IMAP: the folder (its own path rules) and the MOVE target, which depends on the strategy and the folder. */
function resolveImap(v: Violations, input: ConnectorSpecInput, current: ConnectorSettings | undefined, strategy: Strategy | undefined) {
  const folder = checkFolder(v, 'folder', input.folder) ?? current?.folder ?? DEFAULTS.folder;
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
  return { folder, moveTo };
}

function checkFolder(v: Violations, key: 'folder' | 'moveTo', raw: string | undefined): string | undefined {
  if (raw === undefined || (key === 'moveTo' && raw === '')) return undefined;
  const value = raw.trim();
  if (value === '') return void v.add(key, 'required', 'must not be empty');
  const problem = textProblem(FIELDS[key].text, value);
  if (problem) return void v.add(key, problem.rule, problem.message);
  const max = FIELDS[key].maxLength;
  if (value.length > max) return void v.add(key, 'max-length', `must be at most ${max} characters`);
  if (value.split('/').some((s) => s.trim() === '')) {
    return void v.add(key, 'folder-path', 'must be folder names separated by single "/" (no leading, trailing or double "/")');
  }
  if (/[*%]/.test(value)) return void v.add(key, 'no-wildcard', 'must not contain the IMAP wildcards * or %');
  return value;
}

type Bounded = { readonly min?: number; readonly max?: number; readonly maxLength?: number; readonly text?: TextKind };

class Violations {
  readonly list: Violation[] = [];

  add(key: SettingKey | SecretKey, rule: string, message: string): void {
    this.list.push({ field: specField(key), rule, message });
  }

  clean(key: SettingKey | SecretKey): boolean {
    return !this.list.some((x) => x.field === specField(key));
  }

  any(): boolean {
    return this.list.length > 0;
  }

  /** A text setting, trimmed, checked by the rule its catalogue entry names (`text`) and its length. */
  text(key: SettingKey, raw: unknown, f: Bounded): string | undefined {
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') return void this.add(key, 'text', 'must be text');
    const value = raw.trim();
    if (value === '') return void this.add(key, 'required', 'must not be empty');
    const problem = f.text ? textProblem(f.text, value) : undefined;
    if (problem) return void this.add(key, problem.rule, problem.message);
    if (f.maxLength !== undefined && value.length > f.maxLength) return void this.add(key, 'max-length', `must be at most ${f.maxLength} characters`);
    return value;
  }

  int(key: SettingKey, raw: unknown, f: Bounded): number | undefined {
    if (raw === undefined) return undefined;
    const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = f;
    if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < min || raw > max) {
      return void this.add(key, 'range', `must be an integer between ${min} and ${max}`);
    }
    return raw;
  }

  bool(key: SettingKey, raw: unknown): boolean | undefined {
    if (raw === undefined || typeof raw === 'boolean') return raw;
    return void this.add(key, 'bool', 'must be true or false');
  }

  enumOf<T extends string>(key: SettingKey, raw: unknown, allowed: readonly T[]): T | undefined {
    if (raw === undefined) return undefined;
    if (!(allowed as readonly unknown[]).includes(raw)) return void this.add(key, 'enum', `must be one of ${allowed.join(', ')}`);
    return raw as T;
  }

  /** PEM certificates (at most `maxLength` bytes); "" clears. */
  pem(key: SettingKey, raw: unknown, f: Bounded): string | null | undefined {
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') return void this.add(key, 'pem', 'must be PEM text');
    if (raw.trim() === '') return null;
    if (f.maxLength !== undefined && Buffer.byteLength(raw) > f.maxLength) return void this.add(key, 'max-size', `must be at most ${f.maxLength} bytes`);
    const blocks = raw.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) return void this.add(key, 'pem', 'must contain at least one PEM certificate (-----BEGIN CERTIFICATE-----)');
    for (const block of blocks) {
      try {
        new X509Certificate(block);
      } catch {
        return void this.add(key, 'pem', 'contains a certificate that does not parse');
      }
    }
    return blocks.join('\n') + '\n';
  }
}

export type { Protocol, Security };
