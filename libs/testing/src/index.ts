export * from './databases';
export * from './temp';
