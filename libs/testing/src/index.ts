export * from './databases';
export * from './temp';
export * from './grpc-probe';
export * from './ports';
export * from './kafka';
export * from './dovecot';
export * from './scripted-server';
export * from './greenmail';
