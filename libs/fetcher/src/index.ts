export * from './fetcher-service';
