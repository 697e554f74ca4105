import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The inbox's unmatched order events by provider id: linking an order looks its late events up
 * there. Partial, so it holds only the few events waiting for their order, however large the inbox
 * grows. The same SQL on PostgreSQL and SQLite.
 */
export class FulfilmentInboxUnmatched1764400000000 implements MigrationInterface {
  name = 'FulfilmentInboxUnmatched1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX ix_fulfilment_inbox_unmatched ON fulfilment_webhook_inbox (provider, entity_id) WHERE outcome = 'unmatched'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX ix_fulfilment_inbox_unmatched');
  }
}
