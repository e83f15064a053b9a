export * from './trigger-service';
