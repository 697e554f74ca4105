import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What the ops console reads and writes (see ops/). Every list it shows is a keyset page read
 * through one of these indexes, so a page costs the same on a table of millions of rows:
 * - orders newest first, overall, by provider and by status;
 * - open orders by last change (the "stuck" filter), partial: terminal orders fall out of it. Its
 *   predicate lists the terminal statuses (TERMINAL_STATUSES) literally, as the query does, so the
 *   planner can prove the query's rows are in it;
 * - the webhook inbox by outcome, newest first.
 * And who asked for a status change (`actor`, source `ops`). The same SQL on PostgreSQL and SQLite.
 */
const INDEXES: Array<[name: string, definition: string]> = [
  ['ix_fulfilment_orders_created', 'fulfilment_orders (created_at, id)'],
  ['ix_fulfilment_orders_provider_created', 'fulfilment_orders (provider, created_at, id)'],
  ['ix_fulfilment_orders_status_created', 'fulfilment_orders (status, created_at, id)'],
  ['ix_fulfilment_orders_open_updated', "fulfilment_orders (updated_at, id) WHERE status NOT IN ('delivered', 'returned', 'cancelled', 'not_created')"],
  ['ix_fulfilment_inbox_outcome_received', 'fulfilment_webhook_inbox (outcome, received_at, dedup_key)'],
];

export class FulfilmentOpsConsole1764700000000 implements MigrationInterface {
  name = 'FulfilmentOpsConsole1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Plain ALTER TABLE: TypeORM's addColumn would rebuild the table on SQLite (see 1764200000000).
    await queryRunner.query('ALTER TABLE fulfilment_order_status_history ADD COLUMN actor varchar(128) NULL');
    for (const [name, definition] of INDEXES) await queryRunner.query(`CREATE INDEX ${name} ON ${definition}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [name] of [...INDEXES].reverse()) await queryRunner.query(`DROP INDEX ${name}`);
    await queryRunner.query('ALTER TABLE fulfilment_order_status_history DROP COLUMN actor');
  }
}
