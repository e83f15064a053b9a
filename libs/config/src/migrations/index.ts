import { CreateConnectors1764259200000 } from './1764259200000-create-connectors';
import { ConnectorTombstones1764345600000 } from './1764345600000-connector-tombstones';
import { ConnectorSettingsDocument1765065600000 } from './1765065600000-connector-settings-document';
import { Access1765238400000 } from './1765238400000-access';
import { ConnectorOAuthSecrets1766016000000 } from './1766016000000-connector-oauth-secrets';
import { ConsoleUsers1767225600000 } from './1767225600000-console-users';
import { Workspaces1767916800000 } from './1767916800000-workspaces';
import { SettingsMediumtext1768089600000 } from './1768089600000-settings-mediumtext';

/** The config service's migrations, oldest first. Never edit one that has shipped; add a new one. */
export const CONFIG_MIGRATIONS = [
  CreateConnectors1764259200000,
  ConnectorTombstones1764345600000,
  ConnectorSettingsDocument1765065600000,
  Access1765238400000,
  ConnectorOAuthSecrets1766016000000,
  ConsoleUsers1767225600000,
  Workspaces1767916800000,
  SettingsMediumtext1768089600000,
];
