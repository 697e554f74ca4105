import { Table, TableIndex, TableForeignKey, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

/**
 * The module's tables, written with TypeORM's schema API so one migration serves PostgreSQL and
 * SQLite. Timestamps are `timestamp` on PostgreSQL here (1764300000000 makes them `timestamptz`,
 * as the entities declare) and `datetime` on SQLite.
 */
export class FulfilmentInitial1764000000000 implements MigrationInterface {
  name = 'FulfilmentInitial1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const ts = queryRunner.connection.options.type === 'postgres' ? 'timestamp' : 'datetime';
    const id = (name: string, length = 36): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isPrimary: true });
    const str = (name: string, length: number, isNullable = false): TableColumnOptions => ({
      name,
      type: 'varchar',
      length: String(length),
      isNullable,
    });
    const time = (name: string, isNullable = false): TableColumnOptions => ({ name, type: ts, isNullable });
    const int = (name: string, def = 0): TableColumnOptions => ({ name, type: 'integer', default: def, isNullable: false });
    const text = (name: string, isNullable = false): TableColumnOptions => ({ name, type: 'text', isNullable });

    await queryRunner.createTable(
      new Table({
        name: 'fulfilment_orders',
        columns: [
          id('id'),
          str('provider', 16),
          str('provider_order_id', 64, true),
          str('idempotency_key', 255),
          str('host_reference', 255, true),
          str('status', 32),
          str('provider_status', 64, true),
          str('service_level', 64, true),
          str('tracking_number', 128, true),
          text('tracking_url', true),
          time('eta', true),
          str('patient_link_id', 36, true),
          time('provider_created_at', true),
          time('provider_updated_at', true),
          str('last_error', 500, true),
          int('version'),
          time('next_sync_at', true),
          str('sync_lease_owner', 64, true),
          time('sync_lease_until', true),
          int('sync_failures'),
          time('last_synced_at', true),
          time('created_at'),
          time('updated_at'),
        ],
        uniques: [],
        indices: [
          new TableIndex({ name: 'uq_fulfilment_orders_idempotency_key', columnNames: ['idempotency_key'], isUnique: true }),
          new TableIndex({ name: 'uq_fulfilment_orders_provider_order', columnNames: ['provider', 'provider_order_id'], isUnique: true }),
          new TableIndex({ name: 'ix_fulfilment_orders_host_reference', columnNames: ['host_reference'] }),
          new TableIndex({ name: 'ix_fulfilment_orders_due', columnNames: ['next_sync_at'], where: 'next_sync_at IS NOT NULL' }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'fulfilment_order_status_history',
        columns: [
          id('id'),
          str('order_id', 36),
          str('from_status', 32, true),
          str('to_status', 32),
          str('from_provider_status', 64, true),
          str('to_provider_status', 64, true),
          str('source', 16),
          time('provider_timestamp', true),
          time('created_at'),
        ],
        indices: [new TableIndex({ name: 'ix_fulfilment_history_order', columnNames: ['order_id', 'created_at'] })],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_fulfilment_history_order',
            columnNames: ['order_id'],
            referencedTableName: 'fulfilment_orders',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'fulfilment_patient_links',
        columns: [id('id'), str('provider', 16), str('host_reference', 255), str('provider_patient_id', 64, true), time('created_at'), time('updated_at')],
        indices: [
          new TableIndex({ name: 'uq_fulfilment_patient_links_host', columnNames: ['provider', 'host_reference'], isUnique: true }),
          new TableIndex({ name: 'uq_fulfilment_patient_links_provider', columnNames: ['provider', 'provider_patient_id'], isUnique: true }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'fulfilment_patient_locations',
        columns: [id('id'), str('patient_link_id', 36), str('provider_location_id', 64), str('label', 64, true), time('created_at')],
        indices: [
          new TableIndex({ name: 'ix_fulfilment_locations_patient', columnNames: ['patient_link_id'] }),
          new TableIndex({ name: 'uq_fulfilment_locations_provider', columnNames: ['provider_location_id'], isUnique: true }),
        ],
        foreignKeys: [
          new TableForeignKey({
            name: 'fk_fulfilment_locations_patient',
            columnNames: ['patient_link_id'],
            referencedTableName: 'fulfilment_patient_links',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'fulfilment_prescriptions',
        columns: [
          id('id'),
          str('provider', 16),
          str('provider_prescription_id', 64),
          str('provider_patient_id', 64, true),
          str('status', 64, true),
          time('provider_updated_at', true),
          time('created_at'),
          time('updated_at'),
        ],
        indices: [
          new TableIndex({
            name: 'uq_fulfilment_prescriptions_provider',
            columnNames: ['provider', 'provider_prescription_id'],
            isUnique: true,
          }),
        ],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'fulfilment_webhook_inbox',
        columns: [
          id('dedup_key', 191),
          str('provider', 16),
          str('topic', 32),
          str('entity_id', 64),
          str('provider_status', 64, true),
          time('provider_timestamp', true),
          text('payload'),
          str('outcome', 16, true),
          str('error', 500, true),
          time('received_at'),
          time('processed_at', true),
        ],
        indices: [new TableIndex({ name: 'ix_fulfilment_inbox_entity', columnNames: ['topic', 'entity_id'] })],
      }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'fulfilment_webhook_registrations',
        columns: [
          id('id'),
          str('provider', 16),
          str('topic', 32),
          text('callback_url'),
          str('secret_fingerprint', 16),
          time('registered_at'),
          time('confirmed_at', true),
        ],
        indices: [
          new TableIndex({ name: 'uq_fulfilment_webhook_registrations_topic', columnNames: ['provider', 'topic'], isUnique: true }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'fulfilment_webhook_registrations',
      'fulfilment_webhook_inbox',
      'fulfilment_prescriptions',
      'fulfilment_patient_locations',
      'fulfilment_patient_links',
      'fulfilment_order_status_history',
      'fulfilment_orders',
    ]) {
      await queryRunner.dropTable(table);
    }
  }
}
