import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Every timestamp column of the module's tables. */
const TIMESTAMPS: Record<string, string[]> = {
  fulfilment_orders: ['eta', 'provider_created_at', 'provider_updated_at', 'next_sync_at', 'sync_lease_until', 'last_synced_at', 'created_at', 'updated_at'],
  fulfilment_order_status_history: ['provider_timestamp', 'created_at'],
  fulfilment_patient_links: ['created_at', 'updated_at'],
  fulfilment_patient_locations: ['created_at'],
  fulfilment_prescriptions: ['provider_updated_at', 'created_at', 'updated_at'],
  fulfilment_webhook_inbox: ['provider_timestamp', 'received_at', 'processed_at'],
  fulfilment_webhook_registrations: ['registered_at', 'confirmed_at'],
};

/**
 * PostgreSQL only: every timestamp column becomes `timestamp with time zone`. Into a `timestamp`
 * column the pg driver writes a Date as the writing process's LOCAL wall time (the offset it sends
 * is dropped), so replicas with different TZ disagreed on instants. The stored values are read as
 * wall times in the zone of THIS process (its TZ; not the session's TimeZone, which is the server's
 * and which the pg driver never set for those writes): the upgrade assumes it runs with the TZ the
 * writers used. A wall time inside a DST fall-back hour was already ambiguous; PostgreSQL picks one.
 * `down` turns the instants back into wall times of this process's zone. SQLite: nothing to do
 * (TypeORM stores UTC text there). One ALTER TABLE per table: one rewrite of each.
 */
export class FulfilmentTimestamptz1764300000000 implements MigrationInterface {
  name = 'FulfilmentTimestamptz1764300000000';

  up(queryRunner: QueryRunner): Promise<void> {
    return convert(queryRunner, 'timestamptz');
  }

  down(queryRunner: QueryRunner): Promise<void> {
    return convert(queryRunner, 'timestamp');
  }
}

async function convert(queryRunner: QueryRunner, type: 'timestamptz' | 'timestamp'): Promise<void> {
  if (queryRunner.connection.options.type !== 'postgres') return;
  // A literal: ALTER TABLE takes no bind parameters. PostgreSQL refuses a zone it does not know.
  const zone = `'${Intl.DateTimeFormat().resolvedOptions().timeZone.replaceAll("'", "''")}'`;
  for (const [table, columns] of Object.entries(TIMESTAMPS)) {
    await queryRunner.query(`ALTER TABLE ${table} ${columns.map((c) => `ALTER COLUMN ${c} TYPE ${type} USING ${c} AT TIME ZONE ${zone}`).join(', ')}`);
  }
}
