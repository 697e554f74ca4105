import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { FulfilmentOrder, FulfilmentService, OrderStatusHistory, WebhookInboxEvent } from 'nestjs-fulfilment';
import { CaryRxSimulator } from 'nestjs-fulfilment/testing';
import { seedOrders } from '../sync/support.js';
import { CARYRX_NORMALISED_STATUS, FAKE, bootApp, captured, fakeLocation, fakePatient, findLeaks, useLogCapture, type ReliabilityApp } from './support.js';
import { answerCounts, deliverWebhookLoad, planWebhookLoad } from './webhook-load-plan.js';

/**
 * 10,000 CaryRx order-event deliveries at concurrency 50: 8,000 distinct events (the simulator's
 * own event bodies, one per status step), 2,000 of them delivered twice at the same moment (20%),
 * and 1,000 older events delivered only after a newer one of the same order (10%).
 */
const UNIQUE = 8_000;
const DUPLICATES = 2_000;
const LATE = 1_000;
const CONCURRENCY = 50;
/** A guard against a hung run, not a speed goal: on a loaded 2-core machine the load takes minutes. */
const LOAD_TIMEOUT_MS = 600_000;

// Outside the describe: its afterAll runs after the describe's own (apps closed), so shutdown lines are scanned too.
useLogCapture();

describe('reliability: 10,000 webhook deliveries with duplicates and out-of-order events', () => {
  let sim: CaryRxSimulator;
  let ctx: ReliabilityApp;

  beforeAll(async () => {
    // Out-of-order events are told apart by their timestamps here: an undocumented addition, asked for.
    sim = new CaryRxSimulator({ apiKey: FAKE.caryrxApiKey, stepMs: 0, undocumented: { eventTimestamps: true } });
    await sim.start();
    ctx = await bootApp({
      caryrx: { baseUrl: sim.url, apiKey: FAKE.caryrxApiKey, environment: 'development' },
      webhooks: { secret: FAKE.webhookSecret },
      sync: { enabled: false },
    });
  });
  afterAll(async () => {
    await ctx?.close();
    await sim?.stop();
  });

  it(`${UNIQUE + DUPLICATES} deliveries: every order ends at the simulator's status, none lost, none applied twice, late ones stale`, async () => {
    // A real patient and location at the simulator, so the event bodies carry the fake name and street.
    const fulfilment = ctx.app.get(FulfilmentService);
    const link = await fulfilment.caryrx.ensurePatient('reliability-patient', fakePatient());
    const location = await fulfilment.caryrx.addLocation('reliability-patient', fakeLocation());

    const plan = planWebhookLoad(sim, { patientId: link.providerPatientId!, locationId: location.providerLocationId }, { unique: UNIQUE, duplicates: DUPLICATES, late: LATE, seed: 7 });
    const { ids, plans, lateKeys, expectedApplied, expectedAppliedTotal, lateDeliveredStale } = plan;
    expect(plans.flat().length).toBe(UNIQUE);

    // Stored orders, as placed before the events: `created`, no provider status yet.
    const rows = await seedOrders(
      ctx.dataSource,
      ids.map((id) => ({ provider: 'caryrx' as const, providerOrderId: id, status: 'created' as const, providerStatus: null, nextSyncAt: null })),
    );
    const orderIdOf = new Map(rows.map((r) => [r.providerOrderId!, r.id]));
    expect(lateDeliveredStale).toBe(LATE);

    // Deliver: orders interleave freely; within one order the plan's order holds; at most 50 requests in flight.
    const url = `${ctx.url}/fulfilment/webhooks/caryrx/orders?token=${encodeURIComponent(FAKE.webhookSecret)}`;
    const results = await deliverWebhookLoad(plan, () => url, CONCURRENCY);

    expect(results).toHaveLength(UNIQUE + DUPLICATES);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(answerCounts(results)).toEqual({ duplicates: DUPLICATES, applied: expectedAppliedTotal, stale: UNIQUE - expectedAppliedTotal });
    // Every late event was answered stale, never applied.
    const lateResults = results.filter((r) => lateKeys.has(`${r.order}:${r.step}`));
    expect(lateResults).toHaveLength(LATE);
    expect(lateResults.every((r) => r.outcome === 'stale')).toBe(true);

    // The database: one inbox row per distinct event (0 lost), one history row per applied event (0 twice).
    const em = ctx.dataSource.manager;
    expect(await em.count(WebhookInboxEvent, { where: { topic: 'caryrx.order' } })).toBe(UNIQUE);
    expect(await em.count(WebhookInboxEvent, { where: { topic: 'caryrx.order', outcome: 'applied' } })).toBe(expectedAppliedTotal);
    expect(await em.count(WebhookInboxEvent, { where: { topic: 'caryrx.order', outcome: 'stale' } })).toBe(UNIQUE - expectedAppliedTotal);

    const history = await em.find(OrderStatusHistory, { where: { source: 'webhook' }, select: { orderId: true } });
    expect(history).toHaveLength(expectedAppliedTotal);
    const historyPerOrder = new Map<string, number>();
    for (const h of history) historyPerOrder.set(h.orderId, (historyPerOrder.get(h.orderId) ?? 0) + 1);
    const wrongHistory = ids.filter((id, i) => (historyPerOrder.get(orderIdOf.get(id)!) ?? 0) !== expectedApplied[i]);
    expect(wrongHistory).toEqual([]);

    // Every stored order equals the simulator's truth.
    const stored = await em.find(FulfilmentOrder, { where: { provider: 'caryrx' } });
    expect(stored).toHaveLength(ids.length);
    const mismatches = stored.filter((o) => {
      const truth = sim.orders.get(o.providerOrderId!)!;
      return o.providerStatus !== truth.status || o.status !== CARYRX_NORMALISED_STATUS[truth.status] || o.providerUpdatedAt?.toISOString() !== truth.updatedAt;
    });
    expect(mismatches.map((o) => o.providerOrderId)).toEqual([]);
    const finals = stored.reduce<Record<string, number>>((acc, o) => ((acc[o.status] = (acc[o.status] ?? 0) + 1), acc), {});
    // Not vacuous: the mix reaches every kind of end state.
    expect(finals.delivered).toBeGreaterThan(0);
    expect(finals.delivery_failed).toBeGreaterThan(0);
    expect(finals.accepted).toBeGreaterThan(0);
  }, LOAD_TIMEOUT_MS);

  it('log scan: lines were captured (HTTP attempts to /v1/patients, webhook traffic) and none holds a fake key, secret or patient value', () => {
    expect(captured.length).toBeGreaterThan(0);
    expect(captured.some((c) => c.line.includes('/v1/patients'))).toBe(true);
    // The HTTP core's per-attempt debug lines reached the capture (every level is on).
    expect(captured.some((c) => c.source === 'nest:debug' && /POST \/v1\/patients -> 201/.test(c.line))).toBe(true);
    expect(findLeaks()).toEqual([]);
  });
});
