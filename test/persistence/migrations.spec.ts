import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { FULFILMENT_ENTITIES, FULFILMENT_MIGRATIONS, FulfilmentOrder, runFulfilmentMigrations } from 'nestjs-fulfilment';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-database.js';
import { inZone } from '../support/zone-replica.js';

const TABLES = [
  'fulfilment_orders',
  'fulfilment_order_status_history',
  'fulfilment_patient_links',
  'fulfilment_patient_locations',
  'fulfilment_prescriptions',
  'fulfilment_webhook_inbox',
  'fulfilment_webhook_registrations',
  'fulfilment_job_leases',
  'fulfilment_outbox',
];

describe('migrations', () => {
  let db: TestDatabase;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = new DataSource({ ...(db.options as DataSourceOptions), migrationsRun: false });
    await ds.initialize();
  });

  afterAll(async () => {
    await ds.destroy();
    await db.cleanup();
  });

  it(`creates every table, is idempotent, and reverts`, async () => {
    const ran = await runFulfilmentMigrations(ds);
    expect(ran.map((m) => m.name)).toEqual(FULFILMENT_MIGRATIONS.map((m) => new m().name));
    const hasTable = async (table: string) => {
      const runner = ds.createQueryRunner();
      try {
        return await runner.hasTable(table);
      } finally {
        await runner.release();
      }
    };
    for (const table of TABLES) expect(await hasTable(table)).toBe(true);
    // Every column an entity maps exists in the migrated table, with the type TypeORM would give it.
    const runner = ds.createQueryRunner();
    const timestamps: string[] = [];
    for (const entity of ds.entityMetadatas) {
      const table = await runner.getTable(entity.tablePath);
      const columns = new Map(table?.columns.map((c) => [c.name, c.type]));
      expect(entity.columns.map((c) => c.databaseName).filter((name) => !columns.has(name))).toEqual([]);
      const types = entity.columns.map((c) => `${c.databaseName} ${ds.driver.normalizeType(c)}`);
      expect(entity.columns.map((c) => `${c.databaseName} ${columns.get(c.databaseName)}`)).toEqual(types);
      timestamps.push(...types.filter((t) => / (datetime|timestamp.*)$/.test(t)).map((t) => `${entity.tableName}.${t}`));
    }
    await runner.release();
    // Every timestamp: timestamptz on PostgreSQL (an instant, whatever the writer's TZ), UTC text on SQLite.
    expect(timestamps).toHaveLength(25);
    expect(timestamps.filter((t) => !t.endsWith(db.kind === 'postgres' ? ' timestamp with time zone' : ' datetime'))).toEqual([]);

    expect(await runFulfilmentMigrations(ds)).toEqual([]);

    for (let i = 0; i < FULFILMENT_MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    for (const table of TABLES) expect(await hasTable(table)).toBe(false);
  });

  // The values of a `timestamp` column are wall times of the writer's TZ: the upgrade must turn
  // them into the instants the writer meant (the migration runs with the writers' TZ).
  (testDatabaseKind() === 'postgres' ? it : it.skip)('upgrades timestamp columns written in America/New_York to timestamptz with the same instants, and back', async () => {
    const order = {
      id: 'tz-upgrade',
      providerOrderId: 'tz-upgrade-1',
      createdAt: new Date('2025-01-15T12:00:00.000Z'), // EST, UTC-5
      updatedAt: new Date('2025-01-15T12:00:00.000Z'),
      eta: new Date('2025-07-01T16:30:00.000Z'), // EDT, UTC-4
      nextSyncAt: new Date('2025-03-09T07:30:00.000Z'), // half an hour after the switch to EDT
    };
    const wallTimes = () => ds.query(`SELECT to_char(created_at, 'YYYY-MM-DD HH24:MI') AS c, to_char(eta, 'YYYY-MM-DD HH24:MI') AS e, to_char(next_sync_at, 'YYYY-MM-DD HH24:MI') AS n FROM fulfilment_orders WHERE id = $1`, [order.id]);
    const NEW_YORK = [{ c: '2025-01-15 07:00', e: '2025-07-01 12:30', n: '2025-03-09 03:30' }];

    // The migrations up to the conversion, then the conversion alone (the ones after it are not about time).
    const conversion = FULFILMENT_MIGRATIONS.findIndex((m) => new m().name === 'FulfilmentTimestamptz1764300000000');
    const before = await inZone('America/New_York', db, [{ op: 'migrate', count: conversion }, { op: 'place', order, columnsBefore: true }]);
    expect(before.answers[0]).toEqual(FULFILMENT_MIGRATIONS.slice(0, conversion).map((m) => new m().name));
    expect(await wallTimes()).toEqual(NEW_YORK); // as the pg driver wrote them: local wall times

    expect((await inZone('America/New_York', db, [{ op: 'migrate', count: conversion + 1 }])).answers[0]).toEqual(['FulfilmentTimestamptz1764300000000']);
    const [upgraded] = await ds.query(`SELECT created_at, updated_at, eta, next_sync_at FROM fulfilment_orders WHERE id = $1`, [order.id]);
    expect([upgraded.created_at, upgraded.updated_at, upgraded.eta, upgraded.next_sync_at]).toEqual([order.createdAt, order.updatedAt, order.eta, order.nextSyncAt]);
    const [type] = await ds.query(`SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'fulfilment_orders' AND column_name = 'next_sync_at'`);
    expect(type).toEqual({ data_type: 'timestamp with time zone' });

    expect((await inZone('America/New_York', db, [{ op: 'migrate', count: conversion + 1 }, { op: 'undo' }])).answers).toEqual([[], null]);
    expect(await wallTimes()).toEqual(NEW_YORK);
  });

  it('refuses a DataSource that does not list the migrations, with a clear message', async () => {
    const bare = new DataSource({ ...(db.options as DataSourceOptions), migrations: [], migrationsRun: false, entities: FULFILMENT_ENTITIES });
    await bare.initialize();
    try {
      await expect(runFulfilmentMigrations(bare)).rejects.toThrow('add FULFILMENT_MIGRATIONS to its "migrations" option');
    } finally {
      await bare.destroy();
    }
  });
});
