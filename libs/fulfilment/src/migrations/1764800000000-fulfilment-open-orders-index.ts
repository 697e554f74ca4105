import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Open orders by provider and status, for the metrics' open-order counts: partial, so it holds
 * only orders not yet delivered, returned, cancelled or not created, and the count is read from
 * the index alone however many closed orders the table keeps. The same SQL on PostgreSQL and SQLite.
 */
export class FulfilmentOpenOrdersIndex1764800000000 implements MigrationInterface {
  name = 'FulfilmentOpenOrdersIndex1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX ix_fulfilment_orders_open ON fulfilment_orders (provider, status) WHERE status NOT IN ('delivered', 'returned', 'cancelled', 'not_created')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX ix_fulfilment_orders_open');
  }
}
