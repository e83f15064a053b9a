export * from './secret';
export * from './keyring';
export * from './secret-box';
export * from './key-file';
export * from './x509';
