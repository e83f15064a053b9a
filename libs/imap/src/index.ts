export * from './folder-resolver';
export * from './imap-connect';
export * from './poll-imap';
export * from './imap-probe';
