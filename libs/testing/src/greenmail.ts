import { connect } from 'node:net';

/** GreenMail of scripts/test-env.sh: POP3, IMAP (plaintext) and SMTP on loopback, any login accepted. */
export const GREENMAIL = { host: '127.0.0.1', pop3: 23110, imap: 23143, smtp: 23025 };

/**
 * Delivers raw message bytes over SMTP (what a sender's server would do), dot-stuffing
 * lines that start with "." as RFC 5321 requires. Resolves after the server's 250.
 */
export async function smtpDeliver(to: string, message: Buffer): Promise<void> {
  const socket = connect(GREENMAIL.smtp, GREENMAIL.host);
  let buf = '';
  const waiters: Array<(line: string) => void> = [];
  socket.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    let i: number;
    while ((i = buf.indexOf('\r\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      // Multi-line replies ("250-...") end with a line without the dash.
      if (/^\d{3} /.test(line)) waiters.shift()?.(line);
    }
  });
  const expect = (code: string) =>
    new Promise<void>((resolve, reject) =>
      waiters.push((line) => (line.startsWith(code) ? resolve() : reject(new Error(`SMTP: expected ${code}, got ${line}`)))),
    );
  try {
    await expect('220');
    for (const [cmd, code] of [
      ['EHLO postbote.test', '250'],
      ['MAIL FROM:<sender@example.test>', '250'],
      [`RCPT TO:<${to}>`, '250'],
      ['DATA', '354'],
    ] as const) {
      const reply = expect(code);
      socket.write(`${cmd}\r\n`);
      await reply;
    }
    const body = message.toString('latin1').replace(/(^|\r\n)\./g, '$1..');
    const done = expect('250');
    socket.write(Buffer.from(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, 'latin1'));
    await done;
    socket.write('QUIT\r\n');
  } finally {
    socket.end();
  }
}
