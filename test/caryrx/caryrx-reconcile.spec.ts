import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  CaryRxFulfilment,
  FulfilmentEvents,
  FulfilmentService,
  OrderOutcomeUnknownError,
  OrderStateError,
  StatusSyncService,
  type OrderStatusChangedEvent,
} from 'nestjs-fulfilment';
import { startCaryRx, type CaryRxTestContext } from './support.js';

const PATIENT = { firstName: 'lost', lastName: 'answer', dob: '1985-05-06', email: 'lost@test.com', phoneNumber: '1000010103' };
const LOCATION = { locationName: 'home', street1: '1 lost st', city: 'new york', state: 'ny', zip: '27511', latitude: 1, longitude: 1 };

/**
 * A CaryRx create whose answer is lost leaves the order `unknown`. CaryRx lists the patient's
 * orders, so reconciliation finds the one the lost call made (same prescriptions, location and
 * shipping method, created after the attempt, held by no other local order) and links it; one not
 * found within the window is closed as `not_created`.
 */
describe('CaryRx: reconciling orders whose create outcome is unknown', () => {
  let ctx: CaryRxTestContext;
  let flow: CaryRxFulfilment;
  let fulfilment: FulfilmentService;
  let locationId: string;

  beforeAll(async () => {
    ctx = await startCaryRx({ caryrx: { timeoutMs: 3_000, maxRetries: 0 }, sync: { reconcileWindowMs: 1_500 } });
    flow = ctx.t.app.get(CaryRxFulfilment);
    fulfilment = ctx.t.app.get(FulfilmentService);
    await flow.ensurePatient('lost-patient', PATIENT);
    locationId = (await flow.addLocation('lost-patient', LOCATION)).id;
  });
  afterAll(async () => {
    await ctx?.close();
  });

  async function prescription(medicationName: string): Promise<string> {
    const link = await flow.ensurePatient('lost-patient', PATIENT);
    return (await flow.createPrescription({ patientId: link.providerPatientId!, medicationName, qtyWritten: 10, refillsWritten: 0, daysSupply: 10 })).providerPrescriptionId;
  }

  /** A create CaryRx acts on (or, with `fault` 500, never sees) whose answer never arrives. */
  async function lostCreate(key: string, prescriptionIds: string[], kind: 'drop-response' | 'status' = 'drop-response'): Promise<{ orderId: string; remoteId?: string }> {
    const before = new Set(ctx.sim.orders.keys());
    ctx.sim.addFault({ method: 'POST', path: '/v1/orders', kind, status: 500, times: 1 });
    const error = await flow.placeOrder({ idempotencyKey: key, patientHostReference: 'lost-patient', locationId, prescriptionIds }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderOutcomeUnknownError);
    const orderId = (error as OrderOutcomeUnknownError).orderId;
    expect((await fulfilment.getOrder(orderId)).status).toBe('unknown');
    return { orderId, remoteId: [...ctx.sim.orders.keys()].find((id) => !before.has(id)) };
  }

  const changes = (orderId: string) =>
    ctx.t.events.filter((e) => e.name === FulfilmentEvents.OrderStatusChanged).map((e) => e.payload as OrderStatusChangedEvent).filter((e) => e.orderId === orderId);

  it('the sync tick finds the order the lost call made: unknown → linked → its true status, in history and events', async () => {
    const rx = await prescription('atorvastatin');
    const { orderId, remoteId } = await lostCreate('lost-1', [rx]);
    expect(remoteId).toBeDefined();
    ctx.sim.advance(remoteId!); // CaryRx moved on meanwhile: pending → ready_to_fill

    const report = await ctx.t.app.get(StatusSyncService).runOnce();
    expect(report.reconciled).toBe(1);
    const order = await fulfilment.getOrder(orderId);
    expect(order).toMatchObject({ providerOrderId: remoteId, status: 'accepted', providerStatus: 'ready_to_fill' });
    const history = await fulfilment.getOrderHistory(orderId);
    expect(history.map((h) => `${h.fromStatus ?? '-'}→${h.toStatus} [${h.toProviderStatus ?? ''}] via ${h.source}`)).toEqual([
      '-→created [] via create',
      'created→unknown [] via create',
      'unknown→accepted [ready_to_fill] via reconcile',
    ]);
    expect(changes(orderId).map((e) => `${e.status} via ${e.source}`)).toEqual(['created via create', 'unknown via create', 'accepted via reconcile']);

    // Linked once: the next tick has nothing to reconcile, and the order is synced like any other.
    expect((await ctx.t.app.get(StatusSyncService).runOnce()).reconciled).toBe(0);
  });

  it('skips an identical order another local order holds, and links the one made after the attempt', async () => {
    const rx = await prescription('metformin');
    const { order: first } = await flow.placeOrder({ idempotencyKey: 'twin-a', patientHostReference: 'lost-patient', locationId, prescriptionIds: [rx] });
    const { orderId, remoteId } = await lostCreate('twin-b', [rx]);
    expect(remoteId).not.toBe(first.providerOrderId);
    const view = await fulfilment.reconcileUnknown(orderId);
    expect(view).toMatchObject({ providerOrderId: remoteId, status: 'accepted' });
    expect((await fulfilment.getOrder(first.id)).providerOrderId).toBe(first.providerOrderId);
  });

  it('an order CaryRx never created stays unknown within the window, then is closed as not_created, with history and event', async () => {
    const rx = await prescription('lisinopril');
    const { orderId, remoteId } = await lostCreate('never-made', [rx], 'status');
    expect(remoteId).toBeUndefined();
    expect((await fulfilment.reconcileUnknown(orderId)).status).toBe('unknown');

    // Past the window (1.5 s here): the next look closes it.
    const placedAt = (await fulfilment.getOrderHistory(orderId))[0].occurredAt.getTime();
    await new Promise((r) => setTimeout(r, Math.max(0, placedAt + 1_600 - Date.now())));
    const closed = await fulfilment.reconcileUnknown(orderId);
    expect(closed).toMatchObject({ status: 'not_created', providerOrderId: null });
    expect((await fulfilment.getOrderHistory(orderId)).at(-1)).toMatchObject({ fromStatus: 'unknown', toStatus: 'not_created', source: 'reconcile' });
    expect(changes(orderId).at(-1)).toMatchObject({ previousStatus: 'unknown', status: 'not_created', source: 'reconcile' });
    await expect(fulfilment.reconcileUnknown(orderId)).rejects.toBeInstanceOf(OrderStateError);
  });

  it('two identical lost creates cannot be told apart: neither is linked by guess or closed, an operator resolves them', async () => {
    const rx = await prescription('amlodipine');
    const a = await lostCreate('same-a', [rx]);
    const b = await lostCreate('same-b', [rx]);
    expect(a.remoteId && b.remoteId).toBeTruthy();
    expect((await fulfilment.reconcileUnknown(a.orderId)).status).toBe('unknown');
    expect((await fulfilment.reconcileUnknown(b.orderId)).status).toBe('unknown');
    // Past the window too: still unknown, since CaryRx does hold orders that may be theirs.
    const placedAt = (await fulfilment.getOrderHistory(b.orderId))[0].occurredAt.getTime();
    await new Promise((r) => setTimeout(r, Math.max(0, placedAt + 1_600 - Date.now())));
    expect((await ctx.t.app.get(StatusSyncService).runOnce()).reconciled).toBe(0);
    expect((await fulfilment.getOrder(a.orderId)).status).toBe('unknown');
    expect((await fulfilment.resolveUnknown(a.orderId, { providerOrderId: a.remoteId! })).providerOrderId).toBe(a.remoteId);
  });
});
