import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  CaryRxFulfilment,
  CaryRxService,
  FulfilmentConfigurationError,
  FulfilmentEvents,
  FulfilmentOrder,
  OrderStatusHistory,
  PatientLink,
  PatientLocation,
  Prescription,
  ProviderHttpClient,
  WebhookInboxEvent,
  WebhookRegistration,
  type OrderStatusChangedEvent,
  type PrescriptionEvent,
} from 'nestjs-fulfilment';
import { SECRET, startCaryRx, type CaryRxTestContext } from './support.js';

const PATIENT = { firstName: 'test', lastName: 'patient', dob: '2000-01-01', email: 'test-patient@test.com', phoneNumber: '1000010101' };
const LOCATION = { locationName: 'home', street1: '123 main st', street2: 'apt 4', city: 'new york', state: 'ny', zip: '27511', latitude: 1, longitude: 1 };

describe('CaryRx: the document’s example flow against the simulator', () => {
  let ctx: CaryRxTestContext;
  let flow: CaryRxFulfilment;
  let api: CaryRxService;

  beforeAll(async () => {
    ctx = await startCaryRx();
    flow = ctx.t.app.get(CaryRxFulfilment);
    api = ctx.t.app.get(CaryRxService);
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const orders = () => ctx.t.dataSource.manager.find(FulfilmentOrder);
  const history = (orderId: string) =>
    ctx.t.dataSource.manager.find(OrderStatusHistory, { where: { orderId }, order: { createdAt: 'ASC' } });

  let linkId: string;
  let providerPatientId: string;
  let locationId: string;
  let prescriptionId: string;
  let orderId: string;
  let providerOrderId: string;

  it('1. registers both webhooks; the test payloads arrive, are recorded and confirm the registrations', async () => {
    const registrations = await flow.registerWebhooks({ publicUrl: ctx.t.url });
    expect(registrations.map((r) => r.topic)).toEqual(['prescriptions', 'orders']);
    // CaryRx was given the URL with the token; we store it without.
    expect(ctx.sim.callbacks.orders).toBe(`${ctx.t.url}/fulfilment/webhooks/caryrx/orders?token=${SECRET}`);
    await ctx.sim.flushWebhooks();
    expect(ctx.sim.webhookLog.map((d) => d.status)).toEqual([200, 200]);

    const stored = await ctx.t.dataSource.manager.find(WebhookRegistration, { order: { topic: 'ASC' } });
    expect(stored).toHaveLength(2);
    for (const r of stored) {
      expect(r.callbackUrl).toBe(`${ctx.t.url}/fulfilment/webhooks/caryrx/${r.topic}`);
      expect(r.callbackUrl).not.toContain(SECRET);
      expect(r.secretFingerprint).toMatch(/^[0-9a-f]{12}$/);
      expect(r.confirmedAt).toBeInstanceOf(Date);
    }
    const inbox = await ctx.t.dataSource.manager.find(WebhookInboxEvent, { order: { topic: 'ASC' } });
    expect(inbox.map((e) => [e.topic, e.entityId, e.outcome])).toEqual([
      ['caryrx.order', 'd1abcxox', 'test'],
      ['caryrx.prescription', 'test_object', 'test'],
    ]);
    // The test payloads carry addresses and a medication: none of it is kept.
    for (const e of inbox) expect(e.payload).not.toMatch(/address|amoxicillian|sameday_location|medication/);
    expect(await ctx.t.dataSource.manager.count(Prescription)).toBe(0);
  });

  it('2. creates the patient once per host reference (the second call sends nothing)', async () => {
    const link = await flow.ensurePatient('host-patient-1', PATIENT);
    expect(link.providerPatientId).toMatch(/^[a-z0-9]{10}$/);
    const again = await flow.ensurePatient('host-patient-1', PATIENT);
    expect(again.id).toBe(link.id);
    expect(ctx.sim.countRequests('POST', '/v1/patients')).toBe(1);
    // Only ids and the host reference are stored.
    const row = await ctx.t.dataSource.manager.findOneByOrFail(PatientLink, { id: link.id });
    expect(Object.keys(row).sort()).toEqual(['createdAt', 'hostReference', 'id', 'provider', 'providerPatientId', 'updatedAt']);
    linkId = link.id;
    providerPatientId = link.providerPatientId!;

    const remote = await api.getPatient(providerPatientId);
    expect(remote).toMatchObject({ id: providerPatientId, firstName: 'test', lastName: 'patient', dob: '2000-01-01', caryPatient: false });
  });

  it('3. adds a location (id and label stored, not the address)', async () => {
    const location = await flow.addLocation('host-patient-1', LOCATION);
    expect(location.providerLocationId).toMatch(/^[a-z0-9]{10}$/);
    expect(location.label).toBe('home');
    const sent = ctx.sim.requests.find((r) => r.path === `/v1/patients/${providerPatientId}/location`)?.body as Record<string, unknown>;
    expect(sent).toMatchObject({ patientId: providerPatientId, locationName: 'home', address_to_street1: '123 main st', address_to_zip: '27511' });
    const byLinkId = await flow.addLocation(linkId, { ...LOCATION, locationName: 'work' });
    expect(await ctx.t.dataSource.manager.countBy(PatientLocation, { patientLinkId: linkId })).toBe(2);
    expect(byLinkId.label).toBe('work');
    locationId = location.id;
  });

  it('4. creates a prescription (development); its webhook marks it received', async () => {
    const rx = await flow.createPrescription({ patientId: providerPatientId, medicationName: 'atorvastatin', qtyWritten: 10, refillsWritten: 0, daysSupply: 10 });
    prescriptionId = rx.providerPrescriptionId;
    await ctx.sim.flushWebhooks();
    const row = await ctx.t.dataSource.manager.findOneByOrFail(Prescription, { providerPrescriptionId: prescriptionId });
    expect(row).toMatchObject({ provider: 'caryrx', providerPatientId, status: 'pending' });
    const received = ctx.t.events.filter((e) => e.name === FulfilmentEvents.PrescriptionReceived).map((e) => e.payload as PrescriptionEvent);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ providerPrescriptionId: prescriptionId, status: 'pending', previousStatus: null });
    expect(JSON.stringify(received[0])).not.toContain('atorvastatin');

    ctx.sim.setPrescriptionStatus(prescriptionId, 'verified');
    await ctx.sim.flushWebhooks();
    expect((await ctx.t.dataSource.manager.findOneByOrFail(Prescription, { providerPrescriptionId: prescriptionId })).status).toBe('verified');
    const updated = ctx.t.events.filter((e) => e.name === FulfilmentEvents.PrescriptionUpdated).map((e) => e.payload as PrescriptionEvent);
    expect(updated).toEqual([expect.objectContaining({ previousStatus: 'pending', status: 'verified' })]);

    const remote = await api.getPrescription(prescriptionId);
    expect(remote).toMatchObject({ id: prescriptionId, status: 'verified', medicationName: 'atorvastatin', patient: { id: providerPatientId } });
  });

  it('5. places the order: stored first, then sent once; a reused idempotency key sends nothing', async () => {
    const { order, created } = await flow.placeOrder({
      idempotencyKey: 'checkout-1',
      hostReference: 'host-order-1',
      patientHostReference: 'host-patient-1',
      locationId,
      prescriptionIds: [prescriptionId],
      patientDeliveryNote: 'leave at front desk',
      patientPharmacyNote: 'note for info',
    });
    expect(created).toBe(true);
    expect(order).toMatchObject({ provider: 'caryrx', status: 'accepted', providerStatus: 'pending', serviceLevel: 'sameday_delivery', hostReference: 'host-order-1' });
    // The stored row links the patient; the view a host gets does not carry the link's local id.
    expect((await ctx.t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { id: order.id })).patientLinkId).toBe(linkId);
    expect(order.providerOrderId).toMatch(/^[a-z0-9]{10}$/);
    orderId = order.id;
    providerOrderId = order.providerOrderId!;
    expect(ctx.sim.requests.find((r) => r.method === 'POST' && r.path === '/v1/orders')?.body).toEqual({
      shipping_method: 'sameday_delivery',
      central_fill: false,
      patient_id: providerPatientId,
      patient_location_id: (await ctx.t.dataSource.manager.findOneByOrFail(PatientLocation, { id: locationId })).providerLocationId,
      prescriptions: [{ id: prescriptionId }],
      patient_delivery_note: 'leave at front desk',
      patient_pharmacy_note: 'note for info',
      order_status: 'pending',
    });

    const again = await flow.placeOrder({ idempotencyKey: 'checkout-1', patientHostReference: 'host-patient-1', locationId, prescriptionIds: [prescriptionId] });
    expect(again).toMatchObject({ created: false, order: { id: orderId } });
    expect(ctx.sim.orderCreateCount()).toBe(1);

    const remote = await api.getOrder(providerOrderId);
    expect(remote).toMatchObject({ id: providerOrderId, orderStatus: 'pending', packagingMethod: 'usps_firstclass', activationCode: null });
    expect(remote.updatedAt).toBeInstanceOf(Date);
    expect(remote.prescriptions[0]).toMatchObject({ id: prescriptionId, prescription: 'atorvastatin', isRefill: false });
  });

  it('6. status changes arrive by webhook and show in the order, its history and the events', async () => {
    const seen: string[] = [];
    // The first event is delivered twice: with no timestamp (as documented) it is deduplicated by its body.
    ctx.sim.webhookFaults.duplicateNext = 1;
    for (const expected of ['ready_to_fill', 'filled', 'shipped', 'delivered']) {
      expect(ctx.sim.advance(providerOrderId)).toEqual([providerOrderId]);
      await ctx.sim.flushWebhooks();
      const order = await ctx.t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { id: orderId });
      expect(order.providerStatus).toBe(expected);
      seen.push(order.status);
      if (expected === 'shipped') {
        expect(order.trackingUrl).toBe(`https://tracking.example.test/caryrx/${providerOrderId}`);
        expect(order.eta).toBeInstanceOf(Date);
      }
    }
    expect(seen).toEqual(['accepted', 'accepted', 'in_transit', 'delivered']);

    const rows = await history(orderId);
    expect(rows.map((h) => [h.toStatus, h.toProviderStatus, h.source])).toEqual([
      ['created', null, 'create'],
      ['accepted', 'pending', 'create'],
      ['accepted', 'ready_to_fill', 'webhook'],
      ['accepted', 'filled', 'webhook'],
      ['in_transit', 'shipped', 'webhook'],
      ['delivered', 'delivered', 'webhook'],
    ]);
    const changes = ctx.t.events
      .filter((e) => e.name === FulfilmentEvents.OrderStatusChanged)
      .map((e) => e.payload as OrderStatusChangedEvent)
      .filter((e) => e.orderId === orderId);
    expect(changes.map((e) => `${e.providerStatus}:${e.source}`)).toEqual([
      'null:create',
      'pending:create',
      'ready_to_fill:webhook',
      'filled:webhook',
      'shipped:webhook',
      'delivered:webhook',
    ]);
    const inbox = await ctx.t.dataSource.manager.find(WebhookInboxEvent, { where: { topic: 'caryrx.order', entityId: providerOrderId } });
    expect(inbox.map((e) => e.outcome)).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(ctx.sim.webhookLog.filter((d) => d.duplicate && (d.body as { id?: string }).id === providerOrderId)).toHaveLength(1);
    // Order events carry the name and address of the patient: never stored. The document's events
    // carry no timestamp: the order is kept by the state machine's steps alone.
    for (const e of inbox) {
      expect(e.payload).not.toMatch(/123 main st|new york|27511|test patient|address/);
      expect(e.providerTimestamp).toBeNull();
    }
  });

  it('7. refreshOrder reads the order (GET) and changes nothing when it is current', async () => {
    const before = (await history(orderId)).length;
    const order = await flow.refreshOrder(orderId);
    expect(order.status).toBe('delivered');
    expect(ctx.sim.orderGetCount(providerOrderId)).toBe(2); // step 5's getOrder + this refresh
    expect(await history(orderId)).toHaveLength(before);
  });

  it('8. a per-order switch sends an order to delivery_failed after shipped', async () => {
    const { order } = await flow.placeOrder({ idempotencyKey: 'checkout-2', patientHostReference: 'host-patient-1', locationId, prescriptionIds: [prescriptionId], shippingMethod: '2day_mailorder' });
    ctx.sim.failDelivery(order.providerOrderId!);
    for (let i = 0; i < 5; i++) ctx.sim.advance(order.providerOrderId!);
    await ctx.sim.flushWebhooks();
    const stored = await ctx.t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { id: order.id });
    expect(stored).toMatchObject({ status: 'delivery_failed', providerStatus: 'delivery_failed', serviceLevel: '2day_mailorder' });
  });

  it('9. refuses create prescription in production, and everything when CaryRx is not configured', async () => {
    const client = new ProviderHttpClient({ provider: 'caryrx', baseUrl: ctx.sim.url, authHeaders: { apikey: ctx.sim.apiKey } });
    const before = ctx.sim.requests.length;
    const production = new CaryRxService(client, { caryrx: { environment: 'production' } } as never);
    await expect(
      production.createPrescription({ patientId: providerPatientId, medicationName: 'x', qtyWritten: 1, refillsWritten: 0, daysSupply: 1 }),
    ).rejects.toThrow(/refused in production/);
    expect(ctx.sim.requests.length).toBe(before);
    client.destroy();

    const none = new CaryRxService(null, { caryrx: undefined } as never);
    await expect(none.getOrder('abc')).rejects.toThrow(FulfilmentConfigurationError);
    await expect(none.getOrder('abc')).rejects.toThrow('CaryRx is not configured');
  });
});
