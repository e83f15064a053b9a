/**
 * Folder paths are written with "/" between levels whatever the server's own
 * delimiter; INBOX is case-insensitive (RFC 3501 §5.1), so its first segment is
 * normalised to "INBOX" and "Inbox/Incidents" names the same folder as
 * "INBOX/Incidents".
 */
export function normalizeFolderPath(path: string): string {
  const segments = path.split('/');
  if (segments[0] !== undefined && segments[0].toUpperCase() === 'INBOX') segments[0] = 'INBOX';
  return segments.join('/');
}

export function sameFolder(a: string, b: string): boolean {
  return normalizeFolderPath(a) === normalizeFolderPath(b);
}
