import { credentials, type Client } from '@grpc/grpc-js';
import { DEFAULT_CONFIG_SERVICE_ADDR } from '@postbote/connector-registry';
import { DEFAULT_FETCHER_SERVICE_ADDR } from '@postbote/fetcher';
import { DEFAULT_STORAGE_SERVICE_ADDR } from '@postbote/mail-store';
import { ConnectorServiceClient, FetcherServiceClient, StorageServiceClient, TriggerServiceClient } from '@postbote/proto';
import { DEFAULT_TRIGGER_SERVICE_ADDR } from '@postbote/trigger';

/** Where the CLI finds each service: the same *_SERVICE_ADDR variables the services bind to. */
export interface Addresses {
  readonly config: string;
  readonly storage: string;
  readonly trigger: string;
  readonly fetcher: string;
}

export function addressesFrom(env: NodeJS.ProcessEnv): Addresses {
  return {
    config: env['CONFIG_SERVICE_ADDR'] || DEFAULT_CONFIG_SERVICE_ADDR,
    storage: env['STORAGE_SERVICE_ADDR'] || DEFAULT_STORAGE_SERVICE_ADDR,
    trigger: env['TRIGGER_SERVICE_ADDR'] || DEFAULT_TRIGGER_SERVICE_ADDR,
    fetcher: env['FETCHER_SERVICE_ADDR'] || DEFAULT_FETCHER_SERVICE_ADDR,
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
