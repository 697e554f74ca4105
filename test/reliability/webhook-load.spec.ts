import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import pLimit from 'p-limit';
import { FulfilmentOrder, FulfilmentService, OrderStatusHistory, WebhookInboxEvent } from 'nestjs-fulfilment';
import { CaryRxSimulator, type SimCaryRxOrder } from 'nestjs-fulfilment/testing';
import { seedOrders } from '../sync/support.js';
import { CARYRX_NORMALISED_STATUS, FAKE, bootApp, captured, fakeLocation, fakePatient, findLeaks, seededRandom, useLogCapture, type ReliabilityApp } from './support.js';

/**
 * 10,000 CaryRx order-event deliveries at concurrency 50: 8,000 distinct events (the simulator's
 * own event bodies, one per status step), 2,000 of them delivered twice at the same moment (20%),
 * and 1,000 older events delivered only after a newer one of the same order (10%).
 */
const UNIQUE = 8_000;
const DUPLICATES = 2_000;
const LATE = 1_000;
const CONCURRENCY = 50;

interface Delivery {
  order: number;
  /** Index of the event in its order's sequence (higher is newer). */
  step: number;
  body: Record<string, unknown>;
  /** Posted twice concurrently. */
  twice: boolean;
}

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
    const random = seededRandom(7);
    // A real patient and location at the simulator, so the event bodies carry the fake name and street.
    const fulfilment = ctx.app.get(FulfilmentService);
    const link = await fulfilment.caryrx.ensurePatient('reliability-patient', fakePatient());
    const location = await fulfilment.caryrx.addLocation('reliability-patient', fakeLocation());

    // Orders straight into the simulator; their status walk gives each order's event sequence.
    const sequences: Array<Array<Record<string, unknown>>> = [];
    const ids: string[] = [];
    let total = 0;
    for (let i = 0; total < UNIQUE; i++) {
      const id = `wh${i.toString(36).padStart(8, '0')}`;
      const stamp = new Date(Date.now() - 3_600_000).toISOString();
      const order: SimCaryRxOrder = {
        id,
        patientId: link.providerPatientId!,
        locationId: location.providerLocationId,
        prescriptionIds: [],
        shippingMethod: 'sameday_delivery',
        centralFill: false,
        status: 'pending',
        trackingUrl: null,
        trackingEta: null,
        failDelivery: i % 10 === 3,
        createdAt: stamp,
        updatedAt: stamp,
      };
      sim.orders.set(id, order);
      // Most orders walk all 5 statuses; every 6th stops earlier; the last one fills up to UNIQUE.
      const steps = Math.min(i % 6 === 5 ? 1 + (i % 4) : 5, UNIQUE - total);
      const events = [sim.orderEvent(order)];
      while (events.length < steps) {
        sim.advance(id);
        events.push(sim.orderEvent(order));
      }
      sequences.push(events);
      ids.push(id);
      total += steps;
    }
    expect(total).toBe(UNIQUE);

    // Stored orders, as placed before the events: `created`, no provider status yet.
    const rows = await seedOrders(
      ctx.dataSource,
      ids.map((id) => ({ provider: 'caryrx' as const, providerOrderId: id, status: 'created' as const, providerStatus: null, nextSyncAt: null })),
    );
    const orderIdOf = new Map(rows.map((r) => [r.providerOrderId!, r.id]));

    // Delivery plans: each order's events in order, then LATE older events moved after a newer one.
    const plans: Delivery[][] = sequences.map((events, order) => events.map((body, step) => ({ order, step, body, twice: false })));
    const movable = plans.flatMap((plan, order) => plan.slice(0, -1).map((d) => ({ order, step: d.step })));
    let late = 0;
    const lateKeys = new Set<string>();
    const lateOrders = new Set<number>();
    while (late < LATE) {
      const pick = movable[Math.floor(random() * movable.length)];
      // One late event per order keeps "delivered after a newer one" true by construction.
      if (lateOrders.has(pick.order)) continue;
      lateOrders.add(pick.order);
      lateKeys.add(`${pick.order}:${pick.step}`);
      const plan = plans[pick.order];
      const [moved] = plan.splice(
        plan.findIndex((d) => d.step === pick.step),
        1,
      );
      // Somewhere after the first newer event of the same order (the newest step never moves).
      const newer = plan.findIndex((d) => d.step > pick.step);
      plan.splice(newer + 1 + Math.floor(random() * (plan.length - newer)), 0, moved);
      late++;
    }
    const all = plans.flat();
    let dup = 0;
    while (dup < DUPLICATES) {
      const d = all[Math.floor(random() * all.length)];
      if (d.twice || lateKeys.has(`${d.order}:${d.step}`)) continue;
      d.twice = true;
      dup++;
    }

    // Expected per order: an event is applied iff it is newer than everything delivered before it.
    const expectedApplied = plans.map((plan) => {
      let max = -1;
      let applied = 0;
      for (const d of plan) {
        if (d.step > max) {
          applied++;
          max = d.step;
        }
      }
      return applied;
    });
    const expectedAppliedTotal = expectedApplied.reduce((a, b) => a + b, 0);
    const lateDeliveredStale = plans.reduce((n, plan) => {
      let max = -1;
      for (const d of plan) {
        if (d.step < max && lateKeys.has(`${d.order}:${d.step}`)) n++;
        max = Math.max(max, d.step);
      }
      return n;
    }, 0);
    expect(lateDeliveredStale).toBe(LATE);

    // Deliver: orders interleave freely; within one order the plan's order holds; at most 50 requests in flight.
    const url = `${ctx.url}/fulfilment/webhooks/caryrx/orders?token=${encodeURIComponent(FAKE.webhookSecret)}`;
    const limit = pLimit(CONCURRENCY);
    const results: Array<{ order: number; step: number; status: number; duplicate?: boolean; outcome?: string }> = [];
    const post = (d: Delivery) =>
      limit(async () => {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(d.body) });
        const body = (await res.json().catch(() => ({}))) as { duplicate?: boolean; outcome?: string };
        results.push({ order: d.order, step: d.step, status: res.status, duplicate: body.duplicate, outcome: body.outcome });
      });
    await Promise.all(
      plans.map(async (plan) => {
        for (const d of plan) await Promise.all(d.twice ? [post(d), post(d)] : [post(d)]);
      }),
    );

    expect(results).toHaveLength(UNIQUE + DUPLICATES);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const count = (f: (r: (typeof results)[number]) => boolean) => results.filter(f).length;
    expect({
      duplicates: count((r) => r.duplicate === true),
      applied: count((r) => r.duplicate === false && r.outcome === 'applied'),
      stale: count((r) => r.duplicate === false && r.outcome === 'stale'),
    }).toEqual({ duplicates: DUPLICATES, applied: expectedAppliedTotal, stale: UNIQUE - expectedAppliedTotal });
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
  });

  it('log scan: lines were captured (HTTP attempts to /v1/patients, webhook traffic) and none holds a fake key, secret or patient value', () => {
    expect(captured.length).toBeGreaterThan(0);
    expect(captured.some((c) => c.line.includes('/v1/patients'))).toBe(true);
    // The HTTP core's per-attempt debug lines reached the capture (every level is on).
    expect(captured.some((c) => c.source === 'nest:debug' && /POST \/v1\/patients -> 201/.test(c.line))).toBe(true);
    expect(findLeaks()).toEqual([]);
  });
});
