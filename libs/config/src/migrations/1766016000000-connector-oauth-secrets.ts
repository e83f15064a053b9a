import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

// OAuth2 logins (issue #14): a connector's secrets besides its password — client secret and
// refresh token — sealed together as one JSON value under its own key id; `secret_keys`
// names which are present, so listing connectors never decrypts. Existing rows get none.
export class ConnectorOAuthSecrets1766016000000 implements MigrationInterface {
  name = 'ConnectorOAuthSecrets1766016000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('connectors', [
      new TableColumn({ name: 'secrets_ciphertext', type: 'text', isNullable: true }),
      new TableColumn({ name: 'secrets_key_id', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'secret_keys', type: 'varchar', length: '200', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('connectors', 'secret_keys');
    await q.dropColumn('connectors', 'secrets_key_id');
    await q.dropColumn('connectors', 'secrets_ciphertext');
  }
}
