export * from './fetcher-service';
export * from './connector-actor';
export * from './supervisor';

export * from './connector-poll';
