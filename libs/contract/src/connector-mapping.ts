import {
  FIELDS,
  SECRET_KEYS,
  SETTING_KEYS,
  applies,
  type ConnectorRecord,
  type ConnectorSettings,
  type ConnectorSpecInput,
  type SecretKey,
  type SettingKey,
} from '@postbote/connector-model';
import { DEFAULT_WORKSPACE } from '@postbote/auth';
import { Secret } from '@postbote/crypto';
import { AuthType, Connector, ConnectorSpec, OauthProvider, Protocol, Security, Strategy, enumKey } from '@postbote/proto';

// The one place where connectors cross between the API (ts-proto messages) and the
// domain (connector-model). Every setting is mapped by the same rules, driven by FIELDS:
// enums travel as prefixed proto values (PROTOCOL_POP3) and are bare names (POP3) in the
// domain; a setting the domain holds as null (IMAP-only settings of a POP3 connector, no
// trusted CA) is the proto default ('' or UNSPECIFIED). Secrets (SECRET_FIELDS) enter as
// `<api>` on a spec and leave only as `has_<api>` on a connector. A new setting needs no
// code here unless it is an enum, which names its proto enum in PROTO_ENUMS.

type EnumKey = { [K in SettingKey]: (typeof FIELDS)[K]['kind'] extends 'enum' ? K : never }[SettingKey];

/** The proto enum of each enum setting. */
const PROTO_ENUMS = { protocol: Protocol, security: Security, strategy: Strategy, authType: AuthType, oauthProvider: OauthProvider } as const satisfies { readonly [K in EnumKey]: Record<string, string> };

const isEnum = (key: SettingKey): key is EnumKey => key in PROTO_ENUMS;

/** A proto enum value's bare name; undefined for UNSPECIFIED, the raw value when unknown (the validator names it). */
function enumName(key: EnumKey, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const name = enumKey(PROTO_ENUMS[key], value);
  if (name === 'UNSPECIFIED') return undefined;
  return name === 'UNRECOGNIZED' ? String(value) : name;
}

function toProtoValue(key: SettingKey, value: unknown): unknown {
  if (isEnum(key)) {
    const e: Record<string, string> = PROTO_ENUMS[key];
    return value === null || value === undefined ? e['UNSPECIFIED'] : e[String(value)];
  }
  if (value !== null) return value;
  return FIELDS[key].kind === 'bool' ? false : '';
}

/** Settings as the API's Connector fields. */
function settingsToProto(s: ConnectorSettings): Partial<Connector> {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) out[key] = toProtoValue(key, s[key]);
  return out as Partial<Connector>;
}

/** A ConnectorSpec from a client as unchecked input for the validator; the password becomes a Secret here. */
export function specFromProto(spec: ConnectorSpec | undefined): ConnectorSpecInput {
  const s = (spec ?? ConnectorSpec.fromPartial({})) as unknown as Record<string, unknown>;
  const input: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const v = s[key];
    input[key] = isEnum(key) ? enumName(key, v as string | undefined) : v;
  }
  // Marked secret where it enters: from here on it prints as [REDACTED].
  for (const key of SECRET_KEYS) input[key] = typeof s[key] === 'string' ? new Secret(s[key]) : undefined;
  return input as ConnectorSpecInput;
}

/** Unchecked input (a CLI's flags, a console's form) as a ConnectorSpec to send. */
export function specToProto(input: ConnectorSpecInput): ConnectorSpec {
  const out: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const v = input[key];
    if (v === undefined) continue;
    out[key] = isEnum(key) ? (PROTO_ENUMS[key] as Record<string, string>)[String(v)] ?? String(v) : v;
  }
  for (const key of SECRET_KEYS) if (input[key] !== undefined) out[key] = input[key].reveal();
  return ConnectorSpec.fromPartial(out);
}

/** `hasPassword`, `hasOauthClientSecret`, …: the proto's flag for a stored secret. */
const hasFlag = (key: SecretKey) => `has${key[0]?.toUpperCase()}${key.slice(1)}`;

export function connectorToProto(r: ConnectorRecord): Connector {
  const flags = Object.fromEntries(SECRET_KEYS.map((k) => [hasFlag(k), r.secretsSet.includes(k)]));
  return Connector.fromPartial({ ...settingsToProto(r), ...flags, id: r.id, workspace: r.workspace, revision: r.revision, createdAt: r.createdAt, updatedAt: r.updatedAt });
}

/**
 * A Connector from the API or the connectors topic as domain settings and bookkeeping.
 * Values are taken as they come (they were validated where they were written).
 */
export function connectorFromProto(c: Connector): ConnectorRecord {
  const p = c as unknown as Record<string, unknown>;
  const settings: Record<string, unknown> = {};
  const protocol = enumName('protocol', p['protocol'] as string);
  const authType = enumName('authType', p['authType'] as string) ?? 'PASSWORD';
  for (const key of SETTING_KEYS) {
    const v = p[key];
    if (key === 'authType') settings[key] = authType;
    else if (!applies(key, protocol, authType)) settings[key] = null;
    else if (isEnum(key)) settings[key] = enumName(key, v as string) ?? null;
    else if (FIELDS[key].kind === 'text' || FIELDS[key].kind === 'pem') settings[key] = v === '' && nullable(key) ? null : v;
    else settings[key] = v;
  }
  const secretsSet = SECRET_KEYS.filter((k) => p[hasFlag(k)] === true);
  // A connector published before workspaces existed belongs to `default`.
  return { ...(settings as unknown as ConnectorSettings), id: c.id, workspace: c.workspace || DEFAULT_WORKSPACE, secretsSet, revision: c.revision, createdAt: c.createdAt ?? new Date(0), updatedAt: c.updatedAt ?? new Date(0) };
}

/** Settings a connector may lack (IMAP-only ones of a POP3 connector, OAuth2 ones of a password connector, optional ones). */
function nullable(key: SettingKey): boolean {
  return 'protocols' in FIELDS[key] || 'auth' in FIELDS[key] || 'optional' in FIELDS[key];
}
