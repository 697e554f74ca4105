import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { FulfilmentOrder, OrderStatusHistory, ScriptDropFulfilment, StatusSyncService, type FulfilmentOrderView, type FulfilmentStatus } from 'nestjs-fulfilment';
import { ScriptDropSimulator } from 'nestjs-fulfilment/testing';
import { SCRIPTDROP_DOC_INPUT } from '../fixtures/scriptdrop-examples.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { makeAllDue } from './support.js';

/** ScriptDrop has no webhooks: the sync is its only source of truth. Real HTTP to its simulator. */
describe('status sync: ScriptDrop (polling is the only source of truth)', () => {
  let sim: ScriptDropSimulator;
  let t: TestApp;
  let sync: StatusSyncService;
  let flow: ScriptDropFulfilment;

  const load = (id: string) => t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { id });

  beforeAll(async () => {
    sim = new ScriptDropSimulator({ apiKey: 'pk_sync_test', apiSecret: 'sk_sync_test_secret', stepMs: 0 });
    await sim.start();
    t = await createTestApp({
      scriptdrop: { baseUrl: sim.url, apiKey: sim.apiKey, apiSecret: sim.apiSecret },
      // A long interval: the tests make orders due themselves (makeAllDue), and a 429 pause lasts.
      sync: { enabled: false, intervalMs: 60_000, batchSize: 50 },
    });
    sync = t.app.get(StatusSyncService);
    flow = t.app.get(ScriptDropFulfilment);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  async function create(key: string, level: 'sameday' | 'ondemand' | 'shipping'): Promise<FulfilmentOrderView> {
    // The module sends the idempotency key as external_reference_number.
    const { order } = await flow.createDelivery({ idempotencyKey: key, order: { ...SCRIPTDROP_DOC_INPUT[level](), externalReferenceNumber: undefined } });
    return order;
  }

  const terminal: Array<{ id: string; providerId: string }> = [];

  it('orders of every service level reach their final status by sync alone, one multi-get per round', async () => {
    const sameday = await create('sd-sameday', 'sameday');
    const ondemand = await create('sd-ondemand', 'ondemand');
    const shipping = await create('sd-shipping', 'shipping');
    const failing = await create('sd-failing', 'sameday');
    const cancelled = await create('sd-cancelled', 'ondemand');
    sim.failDelivery(failing.providerOrderId!);
    sim.setStatus(cancelled.providerOrderId!, 'cancelled'); // cancelled at ScriptDrop's side
    const expected: Array<[FulfilmentOrderView, FulfilmentStatus, string]> = [
      [sameday, 'delivered', 'delivered'],
      [ondemand, 'delivered', 'delivered'],
      [shipping, 'delivered', 'delivered'],
      [failing, 'returned', 'returned_to_pharmacy'],
      [cancelled, 'cancelled', 'cancelled'],
    ];

    for (let round = 0; round < 8; round++) {
      const open = (await t.dataSource.manager.find(FulfilmentOrder)).filter((o) => o.nextSyncAt !== null).length;
      if (open === 0) break;
      await makeAllDue(t.dataSource);
      const report = await sync.runOnce();
      expect(report).toMatchObject({ claimed: open, fetched: open, failed: 0, httpCalls: { scriptdrop: 1 } });
      sim.advance();
    }
    for (const [order, status, providerStatus] of expected) {
      const row = await load(order.id);
      expect(row).toMatchObject({ status, providerStatus, nextSyncAt: null, syncLeaseOwner: null });
      terminal.push({ id: row.id, providerId: row.providerOrderId! });
    }
    // Shipping tracking arrives with the order; the sync keeps it.
    expect((await load(shipping.id)).trackingNumber).toBeTruthy();
    // The courier walk was seen step by step, all by the sync.
    const walk = await t.dataSource.manager.find(OrderStatusHistory, { where: { orderId: sameday.id, source: 'sync' }, order: { createdAt: 'ASC' } });
    expect(walk.map((h) => h.toProviderStatus)).toEqual(['submitted to courier', 'picked_up', 'delivered']);
    const failedWalk = await t.dataSource.manager.find(OrderStatusHistory, { where: { orderId: failing.id, source: 'sync' } });
    expect(failedWalk.map((h) => h.toStatus)).toEqual(expect.arrayContaining(['delivery_failed', 'returned']));
  });

  it('terminal orders are never fetched again (simulator per-id read counts)', async () => {
    expect(terminal).toHaveLength(5);
    const before = terminal.map((o) => sim.readCount(o.providerId));
    const multiGets = sim.countRequests('GET', '/api/v1/orders');
    for (let i = 0; i < 3; i++) {
      await makeAllDue(t.dataSource);
      const report = await sync.runOnce();
      expect(report).toMatchObject({ claimed: 0, httpCalls: { scriptdrop: 0 } });
    }
    expect(terminal.map((o) => sim.readCount(o.providerId))).toEqual(before);
    expect(sim.countRequests('GET', '/api/v1/orders')).toBe(multiGets);
  });

  it('a 429 (ScriptDrop sends no Retry-After) pauses ScriptDrop by backoff: no calls until then, orders released', async () => {
    const order = await create('sd-ratelimited', 'sameday');
    sim.addFault({ method: 'GET', path: '/api/v1/orders', kind: 'status', status: 429 });
    try {
      await makeAllDue(t.dataSource);
      const report = await sync.runOnce();
      expect(report).toMatchObject({ claimed: 1, released: 1, failed: 0 });
      expect(report.pausedProviders.map((p) => p.provider)).toEqual(['scriptdrop']);
      // No Retry-After: paused for one interval (60 s here), doubling while the 429s go on.
      expect(report.pausedProviders[0].until.getTime()).toBeGreaterThan(Date.now() + 50_000);
      expect(await load(order.id)).toMatchObject({ syncLeaseOwner: null, syncFailures: 0, status: 'accepted' });

      const calls = sim.countRequests('GET', '/api/v1/orders');
      await makeAllDue(t.dataSource);
      const paused = await sync.runOnce();
      expect(paused).toMatchObject({ claimed: 0, httpCalls: { scriptdrop: 0 } });
      expect(sim.countRequests('GET', '/api/v1/orders')).toBe(calls);
    } finally {
      sim.clearFaults();
    }
  });
});
