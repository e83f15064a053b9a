/**
 * What the CLI prints for a person goes to a terminal, and part of it comes from outside:
 * mail servers' answers (test-connection steps, the connector log, status errors), stored
 * fields, other people's names. A control character in it could clear or rewrite the
 * operator's screen (`ESC [2J`, OSC title sequences, a bell), and a bidi control could make
 * text read differently from what it is. So every such character is shown as an escape
 * (`\x1b`, `\u202e`) instead. `--json` output stays exact: JSON escapes C0 controls itself.
 */
const BIDI = new Set([0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]);

function unsafe(code: number, keepNewlines: boolean): boolean {
  if (code === 0x0a) return !keepNewlines;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029 || BIDI.has(code);
}

function escaped(text: string, keepNewlines: boolean): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    out += unsafe(code, keepNewlines) ? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`) : ch;
  }
  return out;
}

/** A whole block of human output: lines stay lines, anything else that controls the terminal is escaped. */
export const forTerminal = (text: string): string => escaped(text, true);

/** One value inside a line (a table cell, a label's value): a newline in it is escaped too, so it cannot forge a line. */
export const oneLine = (text: string): string => escaped(text, false);
