import type { MigrationInterface, QueryRunner } from 'typeorm';

// Issue #28: an email's raw bytes may live in an object store (MAIL_BLOBS_URL) instead of
// email_chunks. The row then names its object; NULL keeps the chunks (every email stored
// before, and every email of an installation without a bucket). Frozen as of this migration.
export class EmailBlobs1768176000000 implements MigrationInterface {
  name = 'EmailBlobs1768176000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE emails ADD COLUMN blob_key varchar(1024) NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE emails DROP COLUMN blob_key');
  }
}
