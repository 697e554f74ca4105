import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Retention: the job lease table (one replica at a time prunes), and the indexes that
 * let a prune find its oldest rows in batches without scanning the table: inbox rows by
 * received_at, history rows by created_at. Both indexes are appended to at their right edge only.
 *
 * `IF NOT EXISTS`: on a large PostgreSQL inbox, create the indexes beforehand with
 * `CREATE INDEX CONCURRENTLY` (which cannot run inside a migration's transaction) so that ingestion
 * is not blocked while they build; this migration then leaves them as they are.
 */
export class FulfilmentRetention1764600000000 implements MigrationInterface {
  name = 'FulfilmentRetention1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const postgres = queryRunner.connection.options.type === 'postgres';
    await queryRunner.createTable(
      new Table({
        name: 'fulfilment_job_leases',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'owner', type: 'varchar', length: '64', isNullable: false },
          { name: 'lease_until', type: postgres ? 'timestamptz' : 'datetime', isNullable: false },
        ],
      }),
    );
    await queryRunner.query('CREATE INDEX IF NOT EXISTS ix_fulfilment_inbox_received ON fulfilment_webhook_inbox (received_at)');
    await queryRunner.query('CREATE INDEX IF NOT EXISTS ix_fulfilment_history_created ON fulfilment_order_status_history (created_at)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX ix_fulfilment_history_created');
    await queryRunner.query('DROP INDEX ix_fulfilment_inbox_received');
    await queryRunner.dropTable('fulfilment_job_leases');
  }
}
