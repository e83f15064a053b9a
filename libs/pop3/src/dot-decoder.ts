const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;
const CRLF_DOT = Buffer.from('\r\n.');

export interface DecodeStep {
  /** Unstuffed message bytes from this input (views into it, not copies). */
  readonly parts: Buffer[];
  /** True once the terminating "." line was seen. */
  readonly done: boolean;
  /** After `done`: the bytes that followed the terminator (the next reply). */
  readonly rest: Buffer;
}

/**
 * The body of a POP3 multi-line reply (RFC 1939 §3), decoded in bulk: the message bytes
 * exactly as the server holds them, with the byte-stuffing dot removed from lines that
 * start with "." and the lone "." line ending it. No per-line limit: a one-line base64
 * body of megabytes reads like any other. Work is proportional to the number of lines
 * that start with a dot, not to the number of lines, and input arriving in any split
 * (a CRLF or ".\r\n" across TCP packets or TLS records) decodes the same.
 */
export class DotDecoder {
  /** The next byte starts a line (true at the start of the body). */
  #lineStart = true;
  /** Bytes held back because they may begin "\r\n." or the terminator. */
  #carry: Buffer | undefined;

  push(input: Buffer): DecodeStep {
    const buf = this.#carry ? Buffer.concat([this.#carry, input]) : input;
    this.#carry = undefined;
    const parts: Buffer[] = [];
    let pos = 0;
    for (;;) {
      if (this.#lineStart) {
        if (buf.length - pos < 1) return { parts, done: false, rest: EMPTY };
        if (buf[pos] === DOT) {
          if (buf.length - pos < 3) {
            this.#carry = buf.subarray(pos);
            return { parts, done: false, rest: EMPTY };
          }
          if (buf[pos + 1] === CR && buf[pos + 2] === LF) return { parts, done: true, rest: buf.subarray(pos + 3) };
          pos += 1; // the stuffing dot
        }
        this.#lineStart = false;
      }
      const i = buf.indexOf(CRLF_DOT, pos);
      if (i >= 0) {
        if (i + 2 > pos) parts.push(buf.subarray(pos, i + 2));
        pos = i + 2;
        this.#lineStart = true;
        continue;
      }
      // No "\r\n." here; keep back a tail that could begin one with the next input.
      let end = buf.length;
      if (end - pos >= 1 && buf[end - 1] === CR) end -= 1;
      else if (end - pos >= 2 && buf[end - 2] === CR && buf[end - 1] === LF) end -= 2;
      if (end > pos) parts.push(buf.subarray(pos, end));
      if (end < buf.length) this.#carry = buf.subarray(end);
      return { parts, done: false, rest: EMPTY };
    }
  }
}

const EMPTY = Buffer.alloc(0);
