export * from './mailbox-errors';
export * from './mailbox-types';
export * from './deadline';
export * from './source-address';
export * from './tls-trust';
export * from './tls-resumption';
export * from './proxy-socket';
