import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { FulfilmentOrder } from 'nestjs-fulfilment';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { inZone } from '../support/zone-replica.js';

/**
 * Two replicas of one deployment whose processes run with different TZ, on one database (a
 * PostgreSQL schema, or one SQLite file): each writes through OrderStore, and both must agree on
 * every instant, on which provider event is older, and on when an order is due.
 */
describe('replicas in different time zones', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const T = (iso: string) => new Date(iso);

  beforeAll(async () => {
    db = await createTestDatabase();
    ds = new DataSource(db.options as DataSourceOptions); // migrations run on connect
    await ds.initialize();
  });
  afterAll(async () => {
    await ds?.destroy();
    await db?.cleanup();
  });

  it('read the same instants, and an older provider event is stale whichever replica wrote the newer one', async () => {
    const created = T('2025-01-15T12:00:00.000Z');
    const utc = await inZone('UTC', db, [
      { op: 'place', order: { id: 'tz-order', providerOrderId: 'tz-1', providerStatus: 'new', createdAt: created, updatedAt: created, eta: T('2025-07-01T16:30:00.000Z') } },
      { op: 'observe', providerOrderId: 'tz-1', providerStatus: 'picked_up', providerTimestamp: T('2025-01-15T12:05:00.000Z') },
      { op: 'read', id: 'tz-order' },
    ]);
    expect(utc.zone).toBe('UTC');
    const [placed, firstOutcome, afterUtc] = utc.answers;
    expect(firstOutcome).toBe('applied');

    const ny = await inZone('America/New_York', db, [
      { op: 'read', id: 'tz-order' },
      // Five minutes older than the one the UTC replica applied (as a local-time column would have seen it, it is hours newer).
      { op: 'observe', providerOrderId: 'tz-1', providerStatus: 'delivered', providerTimestamp: T('2025-01-15T12:00:00.000Z') },
      { op: 'observe', providerOrderId: 'tz-1', providerStatus: 'delivery_attempted', providerTimestamp: T('2025-01-15T12:10:00.000Z') },
      { op: 'read', id: 'tz-order' },
    ]);
    expect(ny.zone).toBe('America/New_York');
    const [seenInNy, stale, applied, afterNy] = ny.answers;
    for (const key of ['createdAt', 'eta', 'providerUpdatedAt', 'updatedAt', 'nextSyncAt'] as const) expect(seenInNy[key]).toBe(afterUtc[key]);
    expect(seenInNy.createdAt).toBe(placed.createdAt);
    expect([stale, applied]).toEqual(['stale', 'applied']);
    expect(afterNy).toMatchObject({ status: 'delivery_failed', providerUpdatedAt: '2025-01-15T12:10:00.000Z' });

    // Back in UTC: the New York replica's newer event is the one to beat, and its next_sync_at is
    // due exactly when it said (a claim just before it takes nothing, just after it takes the order).
    const due = new Date(afterNy.nextSyncAt).getTime();
    const back = await inZone('UTC', db, [
      { op: 'read', id: 'tz-order' },
      { op: 'observe', providerOrderId: 'tz-1', providerStatus: 'picked_up', providerTimestamp: T('2025-01-15T12:05:00.000Z') },
      { op: 'claim', dueBefore: new Date(due - 1) },
      { op: 'claim', dueBefore: new Date(due + 1) },
    ]);
    expect(back.answers).toEqual([afterNy, 'stale', [], ['tz-order']]);

    // And this process (whatever its TZ) reads the same instants.
    const here = await ds.getRepository(FulfilmentOrder).findOneByOrFail({ id: 'tz-order' });
    expect(here.providerUpdatedAt?.toISOString()).toBe('2025-01-15T12:10:00.000Z');
    expect(here.createdAt.toISOString()).toBe(created.toISOString());
  });
});
