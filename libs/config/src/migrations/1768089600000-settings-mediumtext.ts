import type { MigrationInterface, QueryRunner } from 'typeorm';

// The settings document carries a connector's trusted CA bundle, which may be 64 KiB and
// grows when JSON escapes its line breaks: more than MariaDB's TEXT holds (65,535 bytes),
// so a connector with a bundle near the limit was refused by the database (found with
// issue #26). MEDIUMTEXT holds 16 MiB; SQLite's TEXT has no such limit.
export class SettingsMediumtext1768089600000 implements MigrationInterface {
  name = 'SettingsMediumtext1768089600000';

  async up(q: QueryRunner): Promise<void> {
    const type = q.connection.options.type;
    if (type === 'mysql' || type === 'mariadb') await q.query('ALTER TABLE connectors MODIFY settings_json mediumtext NOT NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    const type = q.connection.options.type;
    if (type === 'mysql' || type === 'mariadb') await q.query('ALTER TABLE connectors MODIFY settings_json text NOT NULL');
  }
}
