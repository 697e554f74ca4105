import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { CaryRxFulfilment, FulfilmentEvents, FulfilmentService, WebhookInboxEvent, type OrderStatusChangedEvent } from 'nestjs-fulfilment';
import { startCaryRx, type CaryRxTestContext } from './support.js';

const PATIENT = { firstName: 'late', lastName: 'event', dob: '1990-02-03', email: 'late@test.com', phoneNumber: '1000010102' };
const LOCATION = { locationName: 'home', street1: '1 late st', city: 'new york', state: 'ny', zip: '27511', latitude: 1, longitude: 1 };

/**
 * An order event that arrives while the create call is still waiting for its answer names an id
 * the module does not know yet: it is kept `unmatched`, and applied when the answer links the order.
 */
describe('CaryRx: an order event that arrives before the create call answered', () => {
  let ctx: CaryRxTestContext;
  let flow: CaryRxFulfilment;

  beforeAll(async () => {
    ctx = await startCaryRx({ caryrx: { timeoutMs: 5_000 } });
    flow = ctx.t.app.get(CaryRxFulfilment);
    await flow.registerWebhooks({ publicUrl: ctx.t.url });
    await ctx.sim.flushWebhooks();
    await flow.ensurePatient('late-patient', PATIENT);
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('is kept unmatched, then applied in the linking transaction; its inbox row records it', async () => {
    const location = await flow.addLocation('late-patient', LOCATION);
    const link = await flow.ensurePatient('late-patient', PATIENT);
    const rx = await flow.createPrescription({ patientId: link.providerPatientId!, medicationName: 'atorvastatin', qtyWritten: 10, refillsWritten: 0, daysSupply: 10 });
    await ctx.sim.flushWebhooks();
    // CaryRx creates the order at once but answers only after 1.5 s.
    ctx.sim.addFault({ method: 'POST', path: '/v1/orders', kind: 'delay-response', latencyMs: 1_500, times: 1 });
    const before = new Set(ctx.sim.orders.keys());
    const placing = flow.placeOrder({ idempotencyKey: 'late-1', patientHostReference: 'late-patient', locationId: location.id, prescriptionIds: [rx.providerPrescriptionId] });

    let created: string | undefined;
    while (!created) {
      await new Promise((r) => setTimeout(r, 20));
      created = [...ctx.sim.orders.keys()].find((id) => !before.has(id));
    }
    ctx.sim.advance(created); // pending → ready_to_fill, posted now
    await ctx.sim.flushWebhooks();
    const inbox = () => ctx.t.dataSource.manager.findBy(WebhookInboxEvent, { topic: 'caryrx.order', entityId: created });
    expect((await inbox()).map((r) => r.outcome)).toEqual(['unmatched']);

    const { order } = await placing;
    expect(order).toMatchObject({ providerOrderId: created, status: 'accepted', providerStatus: 'ready_to_fill' });
    expect((await inbox()).map((r) => r.outcome)).toEqual(['applied']);
    const history = await ctx.t.app.get(FulfilmentService).getOrderHistory(order.id);
    expect(history.map((h) => `${h.toProviderStatus} via ${h.source}`)).toEqual(['null via create', 'pending via create', 'ready_to_fill via webhook']);
    const changed = ctx.t.events.filter((e) => e.name === FulfilmentEvents.OrderStatusChanged).map((e) => e.payload as OrderStatusChangedEvent);
    expect(changed.filter((e) => e.orderId === order.id).map((e) => e.providerStatus)).toEqual([null, 'pending', 'ready_to_fill']);
  });

  it('an unmatched event of the state the create answered adds nothing when linked (unchanged)', async () => {
    const location = await flow.addLocation('late-patient', { ...LOCATION, locationName: 'work' });
    const link = await flow.ensurePatient('late-patient', PATIENT);
    const rx = await flow.createPrescription({ patientId: link.providerPatientId!, medicationName: 'metformin', qtyWritten: 10, refillsWritten: 0, daysSupply: 10 });
    await ctx.sim.flushWebhooks();
    ctx.sim.addFault({ method: 'POST', path: '/v1/orders', kind: 'delay-response', latencyMs: 1_000, times: 1 });
    const before = new Set(ctx.sim.orders.keys());
    const placing = flow.placeOrder({ idempotencyKey: 'late-2', patientHostReference: 'late-patient', locationId: location.id, prescriptionIds: [rx.providerPrescriptionId] });
    let created: string | undefined;
    while (!created) {
      await new Promise((r) => setTimeout(r, 20));
      created = [...ctx.sim.orders.keys()].find((id) => !before.has(id));
    }
    // The event says `pending`, the same state the create's answer will say: nothing more to apply.
    ctx.sim.setOrderStatus(created, 'pending');
    await ctx.sim.flushWebhooks();
    const { order } = await placing;
    const rows = await ctx.t.dataSource.manager.findBy(WebhookInboxEvent, { topic: 'caryrx.order', entityId: created });
    expect(rows.map((r) => r.outcome)).toEqual(['unchanged']);
    expect(order.providerStatus).toBe('pending');
  });
});
