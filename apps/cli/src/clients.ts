import { credentials, type Client } from '@grpc/grpc-js';
import { EnvReader, readVar } from '@postbote/env';
import { ConnectorServiceClient, FetcherServiceClient, StorageServiceClient, TriggerServiceClient } from '@postbote/proto';

/** Where the CLI finds each service: the same *_SERVICE_ADDR variables the services bind to. */
export interface Addresses {
  readonly config: string;
  readonly storage: string;
  readonly trigger: string;
  readonly fetcher: string;
}

export function addressesFrom(environment: NodeJS.ProcessEnv): Addresses {
  const env = new EnvReader(environment);
  return {
    config: readVar(env, 'CONFIG_SERVICE_ADDR'),
    storage: readVar(env, 'STORAGE_SERVICE_ADDR'),
    trigger: readVar(env, 'TRIGGER_SERVICE_ADDR'),
    fetcher: readVar(env, 'FETCHER_SERVICE_ADDR'),
  };
}

const open = <C extends Client>(Ctor: new (addr: string, creds: ReturnType<typeof credentials.createInsecure>) => C, addr: string): C =>
  new Ctor(addr, credentials.createInsecure());

export const clients = {
  config: (a: Addresses) => open(ConnectorServiceClient, a.config),
  storage: (a: Addresses) => open(StorageServiceClient, a.storage),
  trigger: (a: Addresses) => open(TriggerServiceClient, a.trigger),
  fetcher: (a: Addresses) => open(FetcherServiceClient, a.fetcher),
};
