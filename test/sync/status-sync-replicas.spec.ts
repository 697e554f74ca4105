import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { IsNull, Not } from 'typeorm';
import { FulfilmentOrder, StatusSyncService, type FulfilmentModuleOptions } from 'nestjs-fulfilment';
import { ScriptDropSimulator } from 'nestjs-fulfilment/testing';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-database.js';
import { SCRIPTDROP_DOC_WIRE } from '../fixtures/scriptdrop-examples.js';
import { makeAllDue, seedOrders, waitFor } from './support.js';

const ORDERS = 500;

// Several replicas share the work through `FOR UPDATE SKIP LOCKED`, which SQLite does not have
// (and a SQLite file has one writer: one process syncs it).
const describePostgres = testDatabaseKind() === 'postgres' ? describe : describe.skip;

describePostgres('status sync: two replicas on one PostgreSQL schema (skipped on SQLite: needs FOR UPDATE SKIP LOCKED)', () => {
  let sim: ScriptDropSimulator;
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let syncA: StatusSyncService;
  let syncB: StatusSyncService;

  const options = (scriptdrop: Partial<NonNullable<FulfilmentModuleOptions['scriptdrop']>> = {}): FulfilmentModuleOptions => ({
    scriptdrop: { baseUrl: sim.url, apiKey: sim.apiKey, apiSecret: sim.apiSecret, ...scriptdrop },
    sync: { enabled: false, intervalMs: 60_000, batchSize: 25, leaseMs: 1_000 },
  });

  beforeAll(async () => {
    sim = new ScriptDropSimulator({ apiKey: 'pk_replicas', apiSecret: 'sk_replicas_secret', stepMs: 0 });
    await sim.start();
    db = await createTestDatabase();
    a = await createTestApp(options(), { db });
    // B's calls give up fast, so the replica "stopped" below wakes up within the test.
    b = await createTestApp(options({ timeoutMs: 3_000, maxRetries: 0 }), { db });
    syncA = a.app.get(StatusSyncService);
    syncB = b.app.get(StatusSyncService);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sim?.stop();
    await db?.cleanup();
  });

  it(`share ${ORDERS} open orders: no order fetched twice in a round, all reach their final status`, async () => {
    const ids = Array.from({ length: ORDERS }, (_, i) => `rep${i}`);
    for (const id of ids) sim.seedOrder(SCRIPTDROP_DOC_WIRE.sameday, { id });
    await seedOrders(a.dataSource, ids.map((id) => ({ provider: 'scriptdrop' as const, providerOrderId: id, providerStatus: 'new' })));

    for (let round = 0; round < 6; round++) {
      const open = await a.dataSource.manager.countBy(FulfilmentOrder, { nextSyncAt: Not(IsNull()) });
      if (open === 0) break;
      sim.resetReadCounts();
      await makeAllDue(a.dataSource);
      const [ra, rb] = await Promise.all([syncA.runOnce(), syncB.runOnce()]);
      expect(ra.claimed + rb.claimed).toBe(open);
      expect(ra.claimed).toBeGreaterThan(0);
      expect(rb.claimed).toBeGreaterThan(0);
      expect(ra.failed + rb.failed).toBe(0);
      expect(Math.max(...ids.map((id) => sim.readCount(id)))).toBe(1);
      expect(ids.filter((id) => sim.orders.get(id)!.status !== 'delivered' && sim.readCount(id) === 0)).toEqual([]);
      sim.advance();
    }
    const rows = await a.dataSource.manager.find(FulfilmentOrder);
    expect(rows).toHaveLength(ORDERS);
    expect(rows.filter((r) => r.status !== 'delivered')).toEqual([]);
    expect(rows.every((r) => r.nextSyncAt === null && r.syncLeaseOwner === null)).toBe(true);
  });

  it('a replica stopped mid-tick leaves its leases behind; the other picks those orders up once they expire', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `crash${i}`);
    for (const id of ids) sim.seedOrder(SCRIPTDROP_DOC_WIRE.sameday, { id });
    await seedOrders(a.dataSource, ids.map((id) => ({ provider: 'scriptdrop' as const, providerOrderId: id, providerStatus: 'new' })));
    ids.forEach((id) => sim.advance(id)); // all at `submitted to courier` at ScriptDrop
    sim.resetReadCounts();
    const leasedBy = async (owner: string) => (await a.dataSource.manager.findBy(FulfilmentOrder, { syncLeaseOwner: owner })).map((o) => o.providerOrderId!);
    const synced = () => a.dataSource.manager.countBy(FulfilmentOrder, { providerStatus: 'submitted to courier' });

    // One of B's multi-gets never gets an answer: B is stuck in that claim, holding its leases
    // (one claim = batchSize × concurrency = 100 orders); its other claim completes.
    sim.addFault({ method: 'GET', path: '/api/v1/orders', kind: 'hang', times: 1 });
    const bTick = syncB.runOnce();
    await waitFor(async () => (await leasedBy(syncB.instanceId)).length === 100 && (await synced()) === 100);
    const stuck = await leasedBy(syncB.instanceId);

    // While B's leases are live, A does not read those orders.
    const readsBefore = stuck.map((id) => sim.readCount(id));
    await makeAllDue(a.dataSource);
    await syncA.runOnce();
    expect(stuck.map((id) => sim.readCount(id))).toEqual(readsBefore);
    expect(await leasedBy(syncB.instanceId)).toHaveLength(100);

    // After leaseMs they are A's: read once more each, and synced.
    await new Promise((r) => setTimeout(r, 1_100));
    const report = await syncA.runOnce();
    expect(report.claimed).toBeGreaterThanOrEqual(100);
    expect(stuck.map((id) => sim.readCount(id))).toEqual(readsBefore.map((n) => n + 1));
    expect(await synced()).toBe(200);
    expect(await a.dataSource.manager.countBy(FulfilmentOrder, { syncLeaseOwner: Not(IsNull()) })).toBe(0);

    // B wakes up (its stuck call times out): its late write touches only rows it still holds, i.e. none.
    const late = await bTick;
    expect(late.failed).toBe(25);
    const after = await a.dataSource.manager.findBy(FulfilmentOrder, { syncFailures: Not(0) });
    expect(after).toEqual([]);
  });
});
