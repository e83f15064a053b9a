/**
 * A connector's TLS session slot (the shape of @postbote/mailbox's TlsResumption) that records
 * whether each handshake resumed: what the fetcher's slot counts in a metric, a test asserts.
 */
export function recordedResumption(): { ticket: Buffer | undefined; readonly handshakes: boolean[]; keep(ticket: Buffer): void; handshake(resumed: boolean): void } {
  const slot = {
    ticket: undefined as Buffer | undefined,
    handshakes: [] as boolean[],
    keep: (ticket: Buffer) => void (slot.ticket = ticket),
    handshake: (resumed: boolean) => void slot.handshakes.push(resumed),
  };
  return slot;
}
