import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { databaseOptionsFromUrl } from '../../apps/sample-host/src/database.js';

export type TestDatabaseKind = 'sqlite' | 'postgres';

export interface TestDatabase {
  kind: TestDatabaseKind;
  /** TypeORM options for TypeOrmModule.forRoot / new DataSource; migrations run on connect. */
  options: TypeOrmModuleOptions;
  /** Drops the schema (PostgreSQL) or deletes the file (SQLite). */
  cleanup(): Promise<void>;
}

/** `npm test` runs on SQLite; `npm run test:postgres` sets FULFILMENT_TEST_DB=postgres. */
export const testDatabaseKind = (): TestDatabaseKind => (process.env.FULFILMENT_TEST_DB === 'postgres' ? 'postgres' : 'sqlite');

export const postgresUrl = (): string => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A fresh, empty database for one test file: a temporary SQLite file (WAL, as the sample host
 * uses), or a schema of its own on PostgreSQL so parallel runs never collide.
 */
export async function createTestDatabase(kind: TestDatabaseKind = testDatabaseKind()): Promise<TestDatabase> {
  if (kind === 'postgres') {
    const schema = `fulfilment_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const url = postgresUrl();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE SCHEMA "${schema}"`);
    await client.end();
    return {
      kind,
      options: databaseOptionsFromUrl(url, { schema }),
      cleanup: async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await c.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'fulfilment-test-'));
  return {
    kind,
    options: databaseOptionsFromUrl(`sqlite:${join(dir, 'test.sqlite')}`),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A database URL of its own, for code that reads DATABASE_URL (the sample host): a temporary
 * SQLite file, or a fresh PostgreSQL schema through search_path.
 */
export async function createTestDatabaseUrl(): Promise<{ url: string; cleanup: () => Promise<void> }> {
  if (testDatabaseKind() === 'postgres') {
    const schema = `sample_host_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: postgresUrl() });
    await c.connect();
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.end();
    const sep = postgresUrl().includes('?') ? '&' : '?';
    return {
      url: `${postgresUrl()}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      cleanup: async () => {
        const d = new pg.Client({ connectionString: postgresUrl() });
        await d.connect();
        await d.query(`DROP SCHEMA "${schema}" CASCADE`);
        await d.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'sample-host-'));
  return { url: `sqlite:${join(dir, 'host.sqlite')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}
