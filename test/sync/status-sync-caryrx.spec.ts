import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { CaryRxFulfilment, FulfilmentEvents, FulfilmentOrder, OrderStatusHistory, StatusSyncService, type OrderStatusChangedEvent } from 'nestjs-fulfilment';
import { CaryRxSimulator } from 'nestjs-fulfilment/testing';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { makeAllDue } from './support.js';

const SECRET = 'sync-test-secret-000001';

/**
 * CaryRx pushes webhooks; the sync is the safety net for the ones that never arrive. Real HTTP to
 * the CaryRx simulator, real database.
 */
describe('status sync: CaryRx (safety net for lost webhooks)', () => {
  let sim: CaryRxSimulator;
  let t: TestApp;
  let sync: StatusSyncService;
  let flow: CaryRxFulfilment;
  const orderIds: string[] = [];

  const load = (id: string) => t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { id });

  beforeAll(async () => {
    sim = new CaryRxSimulator({ apiKey: 'sync-test-key', stepMs: 0 });
    await sim.start();
    t = await createTestApp({
      caryrx: { baseUrl: sim.url, apiKey: sim.apiKey, environment: 'development' },
      webhooks: { secret: SECRET },
      sync: { enabled: false, intervalMs: 1000, concurrency: 2 },
    });
    sync = t.app.get(StatusSyncService);
    flow = t.app.get(CaryRxFulfilment);
    await flow.registerWebhooks({ publicUrl: t.url });
    await flow.ensurePatient('sync-patient', { firstName: 'sync', lastName: 'patient', dob: '1990-01-01' });
    const location = await flow.addLocation('sync-patient', { street1: '1 main st', city: 'new york', state: 'ny', zip: '10001' });
    for (let i = 0; i < 3; i++) {
      const rx = await flow.createPrescription({
        patientId: (await flow.ensurePatient('sync-patient', { firstName: 'sync', lastName: 'patient', dob: '1990-01-01' })).providerPatientId!,
        medicationName: 'atorvastatin',
        qtyWritten: 10,
        refillsWritten: 0,
        daysSupply: 10,
      });
      const { order } = await flow.placeOrder({
        idempotencyKey: `sync-order-${i}`,
        patientHostReference: 'sync-patient',
        locationId: location.id,
        prescriptionIds: [rx.providerPrescriptionId],
      });
      orderIds.push(order.id);
    }
    await sim.flushWebhooks();
  });
  afterAll(async () => {
    await t?.close();
    await sim?.stop();
  });

  it('an order whose webhook was dropped reaches its true status by sync, through the same transition path', async () => {
    const [lost, delivered] = await Promise.all(orderIds.slice(0, 2).map(load));
    sim.webhookFaults.dropNext = 1;
    sim.advance(lost.providerOrderId!); // ready_to_fill: its webhook is dropped
    sim.advance(delivered.providerOrderId!); // ready_to_fill: its webhook arrives
    await sim.flushWebhooks();
    expect(sim.webhookLog.filter((d) => d.dropped)).toHaveLength(1);
    expect((await load(lost.id)).providerStatus).toBe('pending');
    expect((await load(delivered.id)).providerStatus).toBe('ready_to_fill');

    await makeAllDue(t.dataSource);
    const report = await sync.runOnce();
    expect(report).toMatchObject({ claimed: 3, fetched: 3, changed: 1, failed: 0 });
    expect(report.httpCalls.caryrx).toBe(3);
    expect(await load(lost.id)).toMatchObject({ status: 'accepted', providerStatus: 'ready_to_fill', syncLeaseOwner: null });
    const history = await t.dataSource.manager.find(OrderStatusHistory, { where: { orderId: lost.id }, order: { createdAt: 'ASC' } });
    expect(history.at(-1)).toMatchObject({ fromProviderStatus: 'pending', toProviderStatus: 'ready_to_fill', source: 'sync' });
    const events = t.events.filter((e) => e.name === FulfilmentEvents.OrderStatusChanged).map((e) => e.payload as OrderStatusChangedEvent);
    expect(events.at(-1)).toMatchObject({ orderId: lost.id, providerStatus: 'ready_to_fill', source: 'sync' });
  });

  it('with every webhook lost, the sync alone walks an order to delivered; then it is never fetched again', async () => {
    const order = await load(orderIds[2]);
    const providerId = order.providerOrderId!;
    sim.webhookFaults.dropRate = 1;
    try {
      for (let step = 0; step < 10 && (await load(order.id)).status !== 'delivered'; step++) {
        sim.advance(providerId);
        await makeAllDue(t.dataSource);
        await sync.runOnce();
      }
    } finally {
      sim.webhookFaults.dropRate = 0;
    }
    const done = await load(order.id);
    expect(done).toMatchObject({ status: 'delivered', providerStatus: 'delivered', nextSyncAt: null });
    // The document's get order has no tracking fields: only an order event brings them.
    expect(done.trackingUrl).toBeNull();
    const history = await t.dataSource.manager.find(OrderStatusHistory, { where: { orderId: order.id, source: 'sync' } });
    expect(history.map((h) => h.toProviderStatus)).toEqual(expect.arrayContaining(['filled', 'shipped', 'delivered']));

    const gets = sim.orderGetCount(providerId);
    for (let i = 0; i < 3; i++) {
      await makeAllDue(t.dataSource);
      await sync.runOnce();
    }
    expect(sim.orderGetCount(providerId)).toBe(gets);
  });

  it('a 429 pauses CaryRx for its Retry-After: no calls until then, claimed orders released', async () => {
    sim.addFault({ method: 'GET', path: '/v1/orders/:orderId', kind: 'status', status: 429, retryAfter: 120 });
    try {
      await makeAllDue(t.dataSource);
      const report = await sync.runOnce();
      expect(report.pausedProviders.map((p) => p.provider)).toEqual(['caryrx']);
      expect(report.pausedProviders[0].until.getTime()).toBeGreaterThan(Date.now() + 100_000);
      expect(report.failed).toBe(0);
      const open = await t.dataSource.manager.find(FulfilmentOrder, { where: { provider: 'caryrx' } });
      expect(open.every((o) => o.syncLeaseOwner === null)).toBe(true);

      const before = sim.countRequests('GET', '/v1/orders/:orderId');
      await makeAllDue(t.dataSource);
      const paused = await sync.runOnce();
      expect(paused).toMatchObject({ claimed: 0, httpCalls: { caryrx: 0 } });
      expect(sim.countRequests('GET', '/v1/orders/:orderId')).toBe(before);
    } finally {
      sim.clearFaults();
    }
  });
});
