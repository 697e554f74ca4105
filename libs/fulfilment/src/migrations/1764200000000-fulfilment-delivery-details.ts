import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Delivery details CaryRx sends with order events and reads, kept beside tracking URL and ETA. */
const COLUMNS = ['packaging_method', 'sameday_location_x', 'sameday_location_y'];

/**
 * Plain ALTER TABLE, one column per statement: the same SQL on PostgreSQL and SQLite (DROP COLUMN
 * needs SQLite ≥ 3.35, which RETURNING already requires). TypeORM's addColumn would rebuild the
 * table on SQLite, and with foreign keys on, dropping the old fulfilment_orders deletes its history.
 */
export class FulfilmentDeliveryDetails1764200000000 implements MigrationInterface {
  name = 'FulfilmentDeliveryDetails1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const column of COLUMNS) await queryRunner.query(`ALTER TABLE fulfilment_orders ADD COLUMN ${column} varchar(64) NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of COLUMNS) await queryRunner.query(`ALTER TABLE fulfilment_orders DROP COLUMN ${column}`);
  }
}
