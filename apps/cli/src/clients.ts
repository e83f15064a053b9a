import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WORKSPACE_ID_RULE, isWorkspaceId } from '@postbote/auth';
import { Secret } from '@postbote/crypto';
import { EnvReader, readVar } from '@postbote/env';
import { connect, transportFromEnv, type ClientAuth } from '@postbote/grpc-runtime';
import { AccessServiceClient, ConnectorServiceClient, ConsoleUserServiceClient, FetcherServiceClient, StorageServiceClient, TriggerServiceClient, WorkspaceServiceClient } from '@postbote/proto';
import { CliUsageError } from './cli-support';

/** Where the CLI finds each service: the same *_SERVICE_ADDR variables the services bind to. */
export interface Addresses {
  readonly config: string;
  readonly storage: string;
  readonly trigger: string;
  readonly fetcher: string;
}

/** What a command needs to reach the services. */
export interface Target {
  addresses(): Addresses;
  auth(): ClientAuth;
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

/**
 * The CLI's credentials: POSTBOTE_TOKEN (or POSTBOTE_TOKEN_FILE); otherwise the admin
 * token the config service wrote into the data folder on its first start, so the CLI run
 * beside `npm start` needs no setup. TLS as POSTBOTE_TLS_* say.
 */
export function authFrom(environment: NodeJS.ProcessEnv, warn: (line: string) => void, workspaceFlag?: string): ClientAuth {
  const env = new EnvReader(environment);
  const transport = transportFromEnv(env);
  // The flag wins over the variable; unset, the services take the token's own workspace.
  const workspace = workspaceFlag ?? readVar(env, 'POSTBOTE_WORKSPACE');
  if (workspace !== undefined && !isWorkspaceId(workspace)) throw new CliUsageError(`--workspace (POSTBOTE_WORKSPACE) must be ${WORKSPACE_ID_RULE}`);
  const given = readVar(env, 'POSTBOTE_TOKEN');
  if (given) return { transport, identity: { token: new Secret(given) }, workspace };
  const file = readVar(env, 'POSTBOTE_ADMIN_TOKEN_FILE') ?? join(readVar(env, 'POSTBOTE_DATA_DIR'), 'admin.token');
  const token = readTokenFile(file, warn);
  return { transport, identity: token ? { token } : { certificate: true }, workspace };
}

function readTokenFile(path: string, warn: (line: string) => void): Secret | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
  // Like ssh with a private key: say so when others may read the token.
  if ((statSync(path).mode & 0o077) !== 0) warn(`warning: ${path} is readable by other users; chmod 600 it`);
  return text ? new Secret(text) : undefined;
}

export const clients = {
  config: (t: Target) => connect(ConnectorServiceClient, t.addresses().config, t.auth()),
  access: (t: Target) => connect(AccessServiceClient, t.addresses().config, t.auth()),
  consoleUsers: (t: Target) => connect(ConsoleUserServiceClient, t.addresses().config, t.auth()),
  storage: (t: Target) => connect(StorageServiceClient, t.addresses().storage, t.auth()),
  trigger: (t: Target) => connect(TriggerServiceClient, t.addresses().trigger, t.auth()),
  fetcher: (t: Target) => connect(FetcherServiceClient, t.addresses().fetcher, t.auth()),
  workspaces: (t: Target) => connect(WorkspaceServiceClient, t.addresses().config, t.auth()),
};
