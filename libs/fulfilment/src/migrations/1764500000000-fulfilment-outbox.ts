import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The transactional outbox of domain events (fulfilment_outbox), and what reconciling orders whose
 * create outcome is unknown needs: the create's signature on each order and a partial index of the
 * unknown ones. Partial indexes keep both lookups small however large the tables grow.
 */
export class FulfilmentOutbox1764500000000 implements MigrationInterface {
  name = 'FulfilmentOutbox1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const ts = queryRunner.connection.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.createTable(
      new Table({
        name: 'fulfilment_outbox',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'payload', type: 'text' },
          { name: 'created_at', type: ts },
          { name: 'delivered_at', type: ts, isNullable: true },
          { name: 'lease_owner', type: 'varchar', length: '64', isNullable: true },
          { name: 'lease_until', type: ts, isNullable: true },
          { name: 'failures', type: 'integer', default: 0 },
          { name: 'last_error', type: 'varchar', length: '500', isNullable: true },
        ],
        indices: [
          new TableIndex({ name: 'ix_fulfilment_outbox_pending', columnNames: ['id'], where: 'delivered_at IS NULL' }),
          new TableIndex({ name: 'ix_fulfilment_outbox_delivered', columnNames: ['delivered_at'], where: 'delivered_at IS NOT NULL' }),
        ],
      }),
    );
    await queryRunner.addColumn('fulfilment_orders', new TableColumn({ name: 'create_signature', type: 'text', isNullable: true }));
    await queryRunner.query(`CREATE INDEX ix_fulfilment_orders_unknown ON fulfilment_orders (provider, created_at) WHERE status = 'unknown'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX ix_fulfilment_orders_unknown');
    await queryRunner.dropColumn('fulfilment_orders', 'create_signature');
    await queryRunner.dropTable('fulfilment_outbox');
  }
}
