/**
 * ts-proto string enums carry the proto prefix in their values (`Protocol.POP3 ===
 * "PROTOCOL_POP3"`) while Postbote's domain, CLI and logs use the member names ("POP3").
 * This maps a value back to its member name; "UNRECOGNIZED" for a value the enum lacks.
 */
export function enumKey<E extends Record<string, string>>(e: E, value: E[keyof E] | string): Extract<keyof E, string> | 'UNRECOGNIZED' {
  const key = Object.keys(e).find((k) => e[k] === value);
  return (key ?? 'UNRECOGNIZED') as Extract<keyof E, string> | 'UNRECOGNIZED';
}
