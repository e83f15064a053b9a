export * from './poll-pop3';
export * from './pop3-probe';
export * from './pop3-session';
export * from './pop3-commands';
export * from './pop3-wire';
export * from './stored-uidls';
