import type { Protocol, Security } from './enums';
import { FIELDS, SETTING_KEYS, type SettingKey, type SettingValue } from './fields';

type DefaultKey = { [K in SettingKey]: (typeof FIELDS)[K] extends { readonly default: unknown } ? K : never }[SettingKey];

/** Every setting's plain default, from its catalogue entry (`default`). */
export const DEFAULTS = Object.freeze(
  Object.fromEntries(SETTING_KEYS.filter((k) => 'default' in FIELDS[k]).map((k) => [k, (FIELDS[k] as { default: unknown }).default])),
) as { readonly [K in DefaultKey]: NonNullable<SettingValue<K>> };

const PORTS: Record<Protocol, Record<Security, number>> = {
  POP3: { NONE: 110, TLS: 110, SSL: 995 },
  IMAP: { NONE: 143, TLS: 143, SSL: 993 },
};

/** The usual port for a protocol and security mode: POP3 110/995, IMAP 143/993. */
export function defaultPort(protocol: Protocol, security: Security): number {
  return PORTS[protocol][security];
}
