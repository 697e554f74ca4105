import { describe, it, expect, afterAll, beforeAll } from '@jest/globals';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { FULFILMENT_ENTITIES, FULFILMENT_MIGRATIONS, runFulfilmentMigrations } from 'nestjs-fulfilment';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

const TABLES = [
  'fulfilment_orders',
  'fulfilment_order_status_history',
  'fulfilment_patient_links',
  'fulfilment_patient_locations',
  'fulfilment_prescriptions',
  'fulfilment_webhook_inbox',
  'fulfilment_webhook_registrations',
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
    // Every column an entity maps exists in the migrated table.
    const runner = ds.createQueryRunner();
    for (const entity of ds.entityMetadatas) {
      const table = await runner.getTable(entity.tablePath);
      const columns = new Set(table?.columns.map((c) => c.name));
      expect(entity.columns.map((c) => c.databaseName).filter((name) => !columns.has(name))).toEqual([]);
    }
    await runner.release();

    expect(await runFulfilmentMigrations(ds)).toEqual([]);

    for (let i = 0; i < FULFILMENT_MIGRATIONS.length; i++) await ds.undoLastMigration({ transaction: 'each' });
    for (const table of TABLES) expect(await hasTable(table)).toBe(false);
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
