/**
 * Where a message lives on its mail server: the coordinates storage dedupes by and the
 * event reports. One type for the protocol clients, the fetcher and storage; the API's
 * SourceCoordinates map to it in @postbote/contract.
 */
export type MessageSource =
  | { readonly kind: 'IMAP'; readonly folder: string; readonly uidValidity: number; readonly uid: number }
  | { readonly kind: 'POP3'; readonly uidl: string };
