export * from './config-service';
export * from './connector-registry';
export * from './connector-record';
export * from './connector-entity';
export * from './connector-events';
export * from './grpc-handlers';
export * from './key-source';

export { CONFIG_MIGRATIONS } from './migrations';
export * from './access-entities';
export * from './api-tokens';
export * from './audit-log';
export * from './workspaces';
export * from './workspace-entity';
export * from './console-users';
