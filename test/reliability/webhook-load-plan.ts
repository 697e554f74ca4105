import pLimit from 'p-limit';
import type { CaryRxSimulator, SimCaryRxOrder } from 'nestjs-fulfilment/testing';
import { seededRandom } from './support.js';

/**
 * The webhook load of the reliability suite, shared by its one-replica and two-replica runs:
 * `unique` CaryRx order events (the simulator's own bodies, one per status step), `duplicates` of
 * them delivered twice at the same moment, and `late` older events delivered only after a newer
 * one of the same order; with what each order must end at.
 */
export interface Delivery {
  order: number;
  /** Index of the event in its order's sequence (higher is newer). */
  step: number;
  body: Record<string, unknown>;
  /** Posted twice concurrently. */
  twice: boolean;
}

export interface WebhookLoadPlan {
  /** The simulator's order ids, one per order. */
  ids: string[];
  /** Each order's deliveries, in the order they are sent. */
  plans: Delivery[][];
  lateKeys: Set<string>;
  /** Per order: how many events must apply (each newer than everything delivered before it). */
  expectedApplied: number[];
  expectedAppliedTotal: number;
  /** Late events that arrive after a newer one (all of them, by construction). */
  lateDeliveredStale: number;
}

export function planWebhookLoad(
  sim: CaryRxSimulator,
  at: { patientId: string; locationId: string },
  counts: { unique: number; duplicates: number; late: number; seed: number },
): WebhookLoadPlan {
  const random = seededRandom(counts.seed);
  // Orders straight into the simulator; their status walk gives each order's event sequence.
  const sequences: Array<Array<Record<string, unknown>>> = [];
  const ids: string[] = [];
  let total = 0;
  for (let i = 0; total < counts.unique; i++) {
    const id = `wh${i.toString(36).padStart(8, '0')}`;
    const stamp = new Date(Date.now() - 3_600_000).toISOString();
    const order: SimCaryRxOrder = {
      id,
      patientId: at.patientId,
      locationId: at.locationId,
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
    // Most orders walk all 5 statuses; every 6th stops earlier; the last one fills up to `unique`.
    const steps = Math.min(i % 6 === 5 ? 1 + (i % 4) : 5, counts.unique - total);
    const events = [sim.orderEvent(order)];
    while (events.length < steps) {
      sim.advance(id);
      events.push(sim.orderEvent(order));
    }
    sequences.push(events);
    ids.push(id);
    total += steps;
  }

  // Delivery plans: each order's events in order, then `late` older events moved after a newer one.
  const plans: Delivery[][] = sequences.map((events, order) => events.map((body, step) => ({ order, step, body, twice: false })));
  const movable = plans.flatMap((plan, order) => plan.slice(0, -1).map((d) => ({ order, step: d.step })));
  let late = 0;
  const lateKeys = new Set<string>();
  const lateOrders = new Set<number>();
  while (late < counts.late) {
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
  while (dup < counts.duplicates) {
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
  const lateDeliveredStale = plans.reduce((n, plan) => {
    let max = -1;
    for (const d of plan) {
      if (d.step < max && lateKeys.has(`${d.order}:${d.step}`)) n++;
      max = Math.max(max, d.step);
    }
    return n;
  }, 0);
  return { ids, plans, lateKeys, expectedApplied, expectedAppliedTotal: expectedApplied.reduce((a, b) => a + b, 0), lateDeliveredStale };
}

export interface DeliveryResult {
  order: number;
  step: number;
  status: number;
  duplicate?: boolean;
  outcome?: string;
}

/**
 * Sends the plan: orders interleave freely; within one order the plan's order holds; at most
 * `concurrency` requests in flight. `urlFor` picks where each copy goes (copy 1 is a duplicate's second).
 */
export async function deliverWebhookLoad(plan: WebhookLoadPlan, urlFor: (d: Delivery, copy: number) => string, concurrency: number): Promise<DeliveryResult[]> {
  const limit = pLimit(concurrency);
  const results: DeliveryResult[] = [];
  const post = (d: Delivery, copy: number) =>
    limit(async () => {
      const res = await fetch(urlFor(d, copy), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(d.body) });
      const body = (await res.json().catch(() => ({}))) as { duplicate?: boolean; outcome?: string };
      results.push({ order: d.order, step: d.step, status: res.status, duplicate: body.duplicate, outcome: body.outcome });
    });
  await Promise.all(
    plan.plans.map(async (orderPlan) => {
      for (const d of orderPlan) await Promise.all(d.twice ? [post(d, 0), post(d, 1)] : [post(d, 0)]);
    }),
  );
  return results;
}

/** How the deliveries were answered: acknowledged duplicates, and the outcomes of the first copies. */
export function answerCounts(results: DeliveryResult[]): { duplicates: number; applied: number; stale: number } {
  const count = (f: (r: DeliveryResult) => boolean) => results.filter(f).length;
  return {
    duplicates: count((r) => r.duplicate === true),
    applied: count((r) => r.duplicate === false && r.outcome === 'applied'),
    stale: count((r) => r.duplicate === false && r.outcome === 'stale'),
  };
}
