import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import pLimit from 'p-limit';
import { IsNull, Not } from 'typeorm';
import { FulfilmentOrder, FulfilmentService, OrderOutcomeUnknownError, type PlaceOrderResult, ProviderRateLimitError, ProviderUnavailableError, StatusSyncService } from 'nestjs-fulfilment';
import { CaryRxSimulator, ScriptDropSimulator, type FaultRule } from 'nestjs-fulfilment/testing';
import { makeAllDue } from '../sync/support.js';
import { CARYRX_NORMALISED_STATUS, FAKE, bootApp, captured, fakeDelivery, fakeLocation, fakePatient, findLeaks, useLogCapture, waitFor, type ReliabilityApp } from './support.js';

/**
 * Orders created while both simulators answer about 30% of creates (and reads) with 429/5xx, and a
 * small fraction hangs or answers after the client's 300 ms timeout. Every order must end at its
 * true final status, or be flagged `unknown`; no idempotency key may create two provider orders.
 */
const SCRIPTDROP_ORDERS = 1_000;
const CARYRX_ORDERS = 300;
const CONCURRENCY = 20;
const TIMEOUT_MS = 300;

/** ~30% 429/5xx, ~2% timeouts (half of them still create the order, after the client gave up). */
function createFaults(method: string, path: string): FaultRule[] {
  return [
    { method, path, kind: 'status', status: 429, probability: 0.14 },
    { method, path, kind: 'status', status: 503, probability: 0.1 },
    { method, path, kind: 'status', status: 500, probability: 0.04 },
    { method, path, kind: 'status', status: 502, probability: 0.03 },
    { method, path, kind: 'status', status: 504, probability: 0.02 },
    { method, path, kind: 'hang', probability: 0.01 },
    { method, path, kind: 'latency', latencyMs: TIMEOUT_MS + 200, probability: 0.01 },
  ];
}
function readFaults(method: string, path: string): FaultRule[] {
  return [
    { method, path, kind: 'status', status: 429, probability: 0.1 },
    { method, path, kind: 'status', status: 503, probability: 0.1 },
    { method, path, kind: 'status', status: 500, probability: 0.05 },
    { method, path, kind: 'status', status: 502, probability: 0.05 },
    { method, path, kind: 'hang', probability: 0.02 },
  ];
}

/** The normalised status each ScriptDrop simulator status must end at (a table of the suite's own). */
const SCRIPTDROP_NORMALISED_STATUS: Record<string, string> = {
  new: 'accepted',
  'submitted to courier': 'accepted',
  picked_up: 'in_transit',
  delivered: 'delivered',
  delivery_attempted: 'delivery_failed',
  returned_to_pharmacy: 'returned',
  cancelled: 'cancelled',
};

/** The truth for `syncUntilTrue`: a simulator order's own status, and the status it normalises to. */
function simulatorTruth(orders: ReadonlyMap<string, { status: string }>, normalised: Record<string, string>) {
  return (providerOrderId: string) => {
    const s = orders.get(providerOrderId)!.status;
    return { status: normalised[s], providerStatus: s };
  };
}

type Outcome = { key: string; kind: 'created'; order: PlaceOrderResult['order'] } | { key: string; kind: 'unknown' } | { key: string; kind: 'refused'; error: Error };

/** Places every order at CONCURRENCY; sorts each outcome into created / unknown / refused (anything else fails). */
async function placeAll(keys: string[], place: (key: string) => Promise<PlaceOrderResult>): Promise<Outcome[]> {
  const limit = pLimit(CONCURRENCY);
  return Promise.all(
    keys.map((key) =>
      limit(async (): Promise<Outcome> => {
        try {
          const { order, created } = await place(key);
          expect(created).toBe(true);
          return { key, kind: 'created', order };
        } catch (err) {
          if (err instanceof OrderOutcomeUnknownError) return { key, kind: 'unknown' };
          // The provider declined it through every retry: a definite refusal.
          if (err instanceof ProviderRateLimitError || (err instanceof ProviderUnavailableError && err.status === 503)) {
            return { key, kind: 'refused', error: err };
          }
          throw err;
        }
      }),
    ),
  );
}

/** Waits until the simulator answered every request it got (a `latency` fault still creates after the client gave up). */
const settled = (sim: { requests: Array<{ status: number; fault?: string }> }) => waitFor(() => sim.requests.every((r) => r.status !== 0 || r.fault === 'hang'), 10_000, 'simulator idle');

const tally = (outcomes: Outcome[]) => ({
  created: outcomes.filter((o) => o.kind === 'created').length,
  unknown: outcomes.filter((o) => o.kind === 'unknown').length,
  refused: outcomes.filter((o) => o.kind === 'refused').length,
});

// Outside the describe: its afterAll runs after the describe's own (apps closed), so shutdown lines are scanned too.
useLogCapture();

describe('reliability: orders created and synced while the providers fail', () => {
  let scriptdrop: ScriptDropSimulator;
  let caryrx: CaryRxSimulator;
  let ctx: ReliabilityApp;
  let fulfilment: FulfilmentService;
  let sync: StatusSyncService;

  beforeAll(async () => {
    scriptdrop = new ScriptDropSimulator({ apiKey: FAKE.scriptdropApiKey, apiSecret: FAKE.scriptdropApiSecret, stepMs: 0 });
    caryrx = new CaryRxSimulator({ apiKey: FAKE.caryrxApiKey, stepMs: 0 });
    await scriptdrop.start();
    await caryrx.start();
    ctx = await bootApp({
      scriptdrop: { baseUrl: scriptdrop.url, apiKey: FAKE.scriptdropApiKey, apiSecret: FAKE.scriptdropApiSecret, timeoutMs: TIMEOUT_MS },
      caryrx: { baseUrl: caryrx.url, apiKey: FAKE.caryrxApiKey, environment: 'development', timeoutMs: TIMEOUT_MS },
      webhooks: { secret: FAKE.webhookSecret },
      sync: { enabled: false, intervalMs: 1_000 },
    });
    fulfilment = ctx.app.get(FulfilmentService);
    sync = ctx.app.get(StatusSyncService);
  });
  afterAll(async () => {
    await ctx?.close();
    await scriptdrop?.stop();
    await caryrx?.stop();
  });

  /** Sync rounds (waiting out 429 pauses) until every order with a provider id matches `truth`. */
  async function syncUntilTrue(provider: 'scriptdrop' | 'caryrx', truth: (providerOrderId: string) => { status: string; providerStatus: string }) {
    let rounds = 0;
    const wrong = async () => {
      const orders = await ctx.dataSource.manager.find(FulfilmentOrder, { where: { provider, providerOrderId: Not(IsNull()) } });
      return orders.filter((o) => {
        const t = truth(o.providerOrderId!);
        return o.status !== t.status || o.providerStatus !== t.providerStatus;
      });
    };
    while ((await wrong()).length > 0) {
      rounds++;
      if (rounds > 60) break;
      const paused = sync.pausedProviders().find((p) => p.provider === provider);
      if (paused) await new Promise((r) => setTimeout(r, Math.max(0, paused.until.getTime() - Date.now()) + 10));
      await makeAllDue(ctx.dataSource);
      await sync.runOnce();
    }
    expect((await wrong()).map((o) => o.providerOrderId)).toEqual([]);
    return rounds;
  }

  it(`ScriptDrop: ${SCRIPTDROP_ORDERS} deliveries under 30% 429/5xx and timeouts: each ends at its true status or unknown, no key created twice`, async () => {
    for (const rule of [...createFaults('POST', '/api/v1/orders'), ...readFaults('GET', '/api/v1/orders')]) scriptdrop.addFault(rule);
    const keys = Array.from({ length: SCRIPTDROP_ORDERS }, (_, i) => `rel-sd-${i}`);
    const outcomes = await placeAll(keys, (key) => fulfilment.scriptdrop.createDelivery({ idempotencyKey: key, hostReference: `checkout-${key}`, order: fakeDelivery() }));
    await settled(scriptdrop);
    const t = tally(outcomes);
    expect(t.created + t.unknown + t.refused).toBe(SCRIPTDROP_ORDERS);
    // The faults really happened, and both kinds of trouble were met.
    const creates = scriptdrop.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/orders');
    const faulted = creates.filter((r) => r.fault).length;
    expect(faulted / creates.length).toBeGreaterThan(0.2);
    expect(t.created).toBeGreaterThan(SCRIPTDROP_ORDERS / 2);
    expect(t.unknown).toBeGreaterThan(0);

    // At the provider: at most one order per key (the key travels as external_reference_number).
    const simByKey = new Map<string, string[]>();
    for (const o of scriptdrop.orders.values()) simByKey.set(o.externalReferenceNumber!, [...(simByKey.get(o.externalReferenceNumber!) ?? []), o.id]);
    const duplicateCreates = [...simByKey.values()].filter((ids) => ids.length > 1).length;
    expect(duplicateCreates).toBe(0);
    const routeHits = new Map<string, number>();
    for (const b of scriptdrop.createBodies as Array<{ external_reference_number: string }>) {
      routeHits.set(b.external_reference_number, (routeHits.get(b.external_reference_number) ?? 0) + 1);
    }
    expect([...routeHits.values()].filter((n) => n > 1)).toEqual([]);

    // Locally: created ↔ the provider's order; unknown flagged and never re-sent; refused leaves no trace anywhere.
    const em = ctx.dataSource.manager;
    const rows = new Map((await em.find(FulfilmentOrder, { where: { provider: 'scriptdrop' } })).map((o) => [o.idempotencyKey, o]));
    for (const o of outcomes) {
      const row = rows.get(o.key);
      if (o.kind === 'created') expect({ key: o.key, providerOrderId: row?.providerOrderId }).toEqual({ key: o.key, providerOrderId: simByKey.get(o.key)?.[0] });
      if (o.kind === 'unknown') expect({ key: o.key, status: row?.status, providerOrderId: row?.providerOrderId }).toEqual({ key: o.key, status: 'unknown', providerOrderId: null });
      if (o.kind === 'refused') expect({ key: o.key, row: row ?? null, sim: simByKey.get(o.key) ?? null }).toEqual({ key: o.key, row: null, sim: null });
    }
    // 0 lost: every order the provider holds has its local row (some of them flagged unknown).
    expect([...simByKey.keys()].filter((key) => !rows.has(key))).toEqual([]);
    const createdDespiteUnknown = outcomes.filter((o) => o.kind === 'unknown' && simByKey.has(o.key)).length;

    // The provider moves every order to an end (or leaves it on the way); the sync, under read faults, catches up.
    let i = 0;
    for (const order of scriptdrop.orders.values()) {
      const n = i++ % 20;
      if (n === 0) scriptdrop.setStatus(order.id, 'cancelled');
      else if (n === 1) {
        scriptdrop.failDelivery(order.id);
        for (let s = 0; s < 4; s++) scriptdrop.advance(order.id);
      } else if (n === 2) for (let s = 0; s < 2; s++) scriptdrop.advance(order.id);
      else for (let s = 0; s < 3; s++) scriptdrop.advance(order.id);
    }
    const rounds = await syncUntilTrue('scriptdrop', simulatorTruth(scriptdrop.orders, SCRIPTDROP_NORMALISED_STATUS));
    // Unknown orders stay flagged (never silently dropped or re-sent).
    expect(await em.countBy(FulfilmentOrder, { provider: 'scriptdrop', status: 'unknown' })).toBe(t.unknown);
    expect(scriptdrop.orders.size).toBe(t.created + createdDespiteUnknown);
    const finals = await em.find(FulfilmentOrder, { where: { provider: 'scriptdrop' } });
    const byStatus = finals.reduce<Record<string, number>>((acc, o) => ((acc[o.status] = (acc[o.status] ?? 0) + 1), acc), {});
    expect(byStatus.delivered).toBeGreaterThan(0);
    expect(byStatus.returned).toBeGreaterThan(0);
    expect(byStatus.cancelled).toBeGreaterThan(0);
    console.info(
      `ScriptDrop under faults: ${JSON.stringify({ ...t, createdDespiteUnknown, createRequests: creates.length, faulted, duplicateCreates, syncRounds: rounds, byStatus })}`,
    );
    scriptdrop.clearFaults();
  });

  it(`CaryRx: ${CARYRX_ORDERS} orders under the same faults, moved by lossy duplicated webhooks and the sync: true status or unknown, none created twice`, async () => {
    await fulfilment.caryrx.ensurePatient('rel-caryrx-patient', fakePatient());
    const location = await fulfilment.caryrx.addLocation('rel-caryrx-patient', fakeLocation());
    const link = await fulfilment.caryrx.ensurePatient('rel-caryrx-patient', fakePatient());
    const rx = await fulfilment.caryrx.createPrescription({ patientId: link.providerPatientId!, medicationName: 'atorvastatin', qtyWritten: 30, refillsWritten: 0, daysSupply: 30 });
    await fulfilment.caryrx.registerWebhooks({ publicUrl: ctx.url });
    await caryrx.flushWebhooks();
    const before = caryrx.orders.size;

    for (const rule of [...createFaults('POST', '/v1/orders'), ...readFaults('GET', '/v1/orders/:orderId')]) caryrx.addFault(rule);
    const keys = Array.from({ length: CARYRX_ORDERS }, (_, i) => `rel-cx-${i}`);
    const outcomes = await placeAll(keys, (key) =>
      fulfilment.caryrx.placeOrder({
        idempotencyKey: key,
        patientHostReference: 'rel-caryrx-patient',
        locationId: location.id,
        prescriptionIds: [rx.providerPrescriptionId],
        // CaryRx has no idempotency key: the note carries ours so the simulator's log can attribute creates.
        patientDeliveryNote: key,
      }),
    );
    await settled(caryrx);
    const t = tally(outcomes);
    expect(t.created + t.unknown + t.refused).toBe(CARYRX_ORDERS);
    expect(t.unknown).toBeGreaterThan(0);

    // Creates that reached CaryRx's handler, per key: never more than one.
    const reached = caryrx.requests.filter((r) => r.method === 'POST' && r.path === '/v1/orders' && r.status === 201);
    const perKey = new Map<string, number>();
    for (const r of reached) {
      const key = (r.body as { patient_delivery_note: string }).patient_delivery_note;
      perKey.set(key, (perKey.get(key) ?? 0) + 1);
    }
    const duplicateCreates = [...perKey.values()].filter((n) => n > 1).length;
    expect(duplicateCreates).toBe(0);
    expect(caryrx.orders.size - before).toBe(reached.length);
    const em = ctx.dataSource.manager;
    const rows = new Map((await em.find(FulfilmentOrder, { where: { provider: 'caryrx' } })).map((o) => [o.idempotencyKey, o]));
    for (const o of outcomes) {
      const row = rows.get(o.key);
      if (o.kind === 'created') expect({ key: o.key, hits: perKey.get(o.key), known: caryrx.orders.has(row?.providerOrderId ?? '') }).toEqual({ key: o.key, hits: 1, known: true });
      if (o.kind === 'unknown') expect({ key: o.key, status: row?.status }).toEqual({ key: o.key, status: 'unknown' });
      if (o.kind === 'refused') expect({ key: o.key, row: row ?? null, hits: perKey.get(o.key) ?? 0 }).toEqual({ key: o.key, row: null, hits: 0 });
    }
    // Every key that reached CaryRx has its local row.
    expect([...perKey.keys()].filter((key) => !rows.has(key))).toEqual([]);

    // CaryRx moves its orders and posts events: 10% dropped, 20% sent twice; the sync reads the rest (under read faults).
    caryrx.webhookFaults = { dropRate: 0.1, duplicateRate: 0.2 };
    let i = 0;
    for (const order of [...caryrx.orders.values()].slice(before)) {
      const n = i++ % 10;
      if (n === 0) caryrx.failDelivery(order.id);
      const steps = n === 1 ? 2 : 4;
      for (let s = 0; s < steps; s++) caryrx.advance(order.id);
    }
    await caryrx.flushWebhooks();
    const dropped = caryrx.webhookLog.filter((w) => w.dropped).length;
    const duplicated = caryrx.webhookLog.filter((w) => w.duplicate).length;
    expect(dropped).toBeGreaterThan(0);
    expect(caryrx.webhookLog.filter((w) => !w.dropped && w.status !== 200)).toEqual([]);
    const rounds = await syncUntilTrue('caryrx', simulatorTruth(caryrx.orders, CARYRX_NORMALISED_STATUS));
    expect(await em.countBy(FulfilmentOrder, { provider: 'caryrx', status: 'unknown' })).toBe(t.unknown);
    console.info(`CaryRx under faults: ${JSON.stringify({ ...t, reached: reached.length, duplicateCreates, dropped, duplicated, syncRounds: rounds })}`);
    caryrx.clearFaults();
  });

  it('log scan: attempts were logged (retries, timeouts, /v1/patients) and no line holds a fake key, secret or patient value', async () => {
    await waitFor(() => captured.length > 0);
    expect(captured.some((c) => c.line.includes('/v1/patients'))).toBe(true);
    expect(captured.some((c) => /retrying in/.test(c.line))).toBe(true);
    expect(captured.some((c) => /timeout/.test(c.line))).toBe(true);
    expect(findLeaks()).toEqual([]);
  });
});
