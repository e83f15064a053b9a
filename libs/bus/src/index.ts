export * from './bus';
export * from './in-process-bus';
export * from './kafka-bus';
export * from './topics';
export * from './bus-config';
export * from './kafka-positioned-publisher';
export * from './kafka-retry';
export * from './kafka-security';
