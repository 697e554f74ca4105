import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  CaryRxFulfilment,
  CaryRxService,
  FulfilmentEvents,
  FulfilmentOrder,
  FulfilmentValidationError,
  OrderOutcomeUnknownError,
  OrderStatusHistory,
  ProviderRateLimitError,
  type OrderStatusChangedEvent,
} from 'nestjs-fulfilment';
import { startCaryRx, type CaryRxTestContext } from './support.js';

const PATIENT = { firstName: 'test', lastName: 'patient', dob: '2000-01-01', email: 'test-patient@test.com', phoneNumber: '1000010101' };
const LOCATION = { locationName: 'home', street1: '123 main st', city: 'new york', state: 'ny', zip: '27511', latitude: 1, longitude: 1 };

describe('CaryRx: faults and input validation', () => {
  let ctx: CaryRxTestContext;
  let flow: CaryRxFulfilment;
  let api: CaryRxService;
  let patientId: string;
  let locationId: string;
  let prescriptionId: string;

  beforeAll(async () => {
    // A short timeout so the hang fault turns into a client timeout quickly.
    ctx = await startCaryRx({ caryrx: { timeoutMs: 750 } });
    flow = ctx.t.app.get(CaryRxFulfilment);
    api = ctx.t.app.get(CaryRxService);
    await flow.registerWebhooks({ publicUrl: ctx.t.url });
    await ctx.sim.flushWebhooks();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('retries create patient after 429 (Retry-After) and 503, and succeeds', async () => {
    ctx.sim.addFault({ method: 'POST', path: '/v1/patients', kind: 'status', status: 429, retryAfter: 0, times: 1 });
    ctx.sim.addFault({ method: 'POST', path: '/v1/patients', kind: 'status', status: 503, times: 1 });
    const link = await flow.ensurePatient('faults-patient', PATIENT);
    expect(link.providerPatientId).toMatch(/^[a-z0-9]{10}$/);
    const creates = ctx.sim.requests.filter((r) => r.method === 'POST' && r.path === '/v1/patients');
    expect(creates.map((r) => r.status)).toEqual([429, 503, 201]);
    patientId = link.providerPatientId!;
    locationId = (await flow.addLocation('faults-patient', LOCATION)).id;
    prescriptionId = (await flow.createPrescription({ patientId, medicationName: 'atorvastatin', qtyWritten: 10, refillsWritten: 0, daysSupply: 10 }))
      .providerPrescriptionId;
  });

  it('gives up with a typed error when the rate limit persists', async () => {
    ctx.sim.addFault({ method: 'GET', path: '/v1/patients/:id', kind: 'status', status: 429, retryAfter: 0, times: 3 });
    await expect(api.getPatient(patientId)).rejects.toBeInstanceOf(ProviderRateLimitError);
    ctx.sim.clearFaults();
  });

  it('a timeout on create order is not re-sent: the order is left `unknown` and reported', async () => {
    ctx.sim.addFault({ method: 'POST', path: '/v1/orders', kind: 'hang', times: 1 });
    const before = ctx.sim.orderCreateCount();
    const error = await flow
      .placeOrder({ idempotencyKey: 'timeout-1', patientHostReference: 'faults-patient', locationId, prescriptionIds: [prescriptionId] })
      .then(() => null, (err: unknown) => err);
    expect(error).toBeInstanceOf(OrderOutcomeUnknownError);
    expect(ctx.sim.orderCreateCount() - before).toBe(1);
    const order = await ctx.t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { idempotencyKey: 'timeout-1' });
    expect(order).toMatchObject({ status: 'unknown', providerOrderId: null, id: (error as OrderOutcomeUnknownError).orderId });
    expect(order.lastError).toMatch(/timed out/);
    const history = await ctx.t.dataSource.manager.find(OrderStatusHistory, { where: { orderId: order.id }, order: { createdAt: 'ASC' } });
    expect(history.map((h) => h.toStatus)).toEqual(['created', 'unknown']);
    const event = ctx.t.events.map((e) => e.payload as OrderStatusChangedEvent).find((e) => e.orderId === order.id && e.status === 'unknown');
    expect(event).toBeDefined();

    // The same key again returns the stored order and sends nothing.
    const again = await flow.placeOrder({ idempotencyKey: 'timeout-1', patientHostReference: 'faults-patient', locationId, prescriptionIds: [prescriptionId] });
    expect(again).toMatchObject({ created: false, order: { id: order.id, status: 'unknown' } });
    expect(ctx.sim.orderCreateCount() - before).toBe(1);
    ctx.sim.clearFaults();
  });

  describe('invalid client input: a clear error naming the field, and nothing sent', () => {
    const order = () => ({ idempotencyKey: 'invalid-1', patientHostReference: 'faults-patient', locationId, prescriptionIds: [prescriptionId] });
    const cases: Array<[string, () => Promise<unknown>, string[]]> = [
      ['required field', () => api.createPatient({ ...PATIENT, firstName: undefined } as never), ['firstName']],
      ['dob format', () => api.createPatient({ ...PATIENT, dob: '01/01/2000' }), ['dob']],
      ['dob a real date', () => api.createPatient({ ...PATIENT, dob: '2001-02-30' }), ['dob']],
      ['dob not in the future', () => api.createPatient({ ...PATIENT, dob: `${new Date().getUTCFullYear() + 1}-01-01` }), ['dob']],
      ['email', () => api.createPatient({ ...PATIENT, email: 'test-patient@' }), ['email']],
      ['phone digits', () => api.createPatient({ ...PATIENT, phoneNumber: '100-001-0101' }), ['phoneNumber']],
      ['two-letter state', () => api.createPatientLocation(patientId, { ...LOCATION, state: 'NYC' }), ['state']],
      ['zip 5 or 9 digits', () => api.createPatientLocation(patientId, { ...LOCATION, zip: '2751' }), ['zip']],
      ['latitude range', () => api.createPatientLocation(patientId, { ...LOCATION, latitude: 91 }), ['latitude']],
      ['longitude range', () => api.createPatientLocation(patientId, { ...LOCATION, longitude: -180.5 }), ['longitude']],
      ['shipping method', () => flow.placeOrder({ ...order(), shippingMethod: 'teleport' }), ['shippingMethod']],
      ['at least one prescription', () => flow.placeOrder({ ...order(), prescriptionIds: [] }), ['prescriptionIds']],
      ['notes length', () => flow.placeOrder({ ...order(), patientDeliveryNote: 'x'.repeat(501) }), ['patientDeliveryNote']],
      ['unknown field', () => api.createPatient({ ...PATIENT, ssn: '123' } as never), ['ssn']],
      ['an unknown key that is not a plain name', () => api.createPatient({ ...PATIENT, '(?': '123' } as never), ['(?']],
      ['a bad reference does not hide a bad patient', () => flow.ensurePatient('', { ...PATIENT, dob: 'soon' }), ['hostReference', 'dob']],
      ['a bad id does not hide a bad location', () => api.createPatientLocation('', { ...LOCATION, zip: '2751' }), ['patientId', 'zip']],
      [
        'every bad field at once',
        () => flow.ensurePatient('faults-patient-2', { firstName: '', lastName: 'x', dob: 'soon', email: 'no', phoneNumber: '12' }),
        ['firstName', 'dob', 'email', 'phoneNumber'],
      ],
    ];
    it.each(cases)('%s', async (_rule, call, fields) => {
      const before = ctx.sim.requests.length;
      const error = await call().then(() => null, (err: unknown) => err);
      expect(error).toBeInstanceOf(FulfilmentValidationError);
      expect((error as FulfilmentValidationError).fields.map((f) => f.path)).toEqual(fields);
      for (const field of fields) expect((error as Error).message).toContain(field);
      // Messages name the rule, never the value.
      expect((error as Error).message).not.toMatch(/teleport|NYC|test-patient@|100-001-0101/);
      expect(ctx.sim.requests.length).toBe(before);
    });
  });

  it('names each bad field once with the first rule it broke, never every rule', async () => {
    const error = (await api.createPatient({ lastName: 5, dob: '2001-02-30', email: 'x'.repeat(300) } as never).catch((e: unknown) => e)) as FulfilmentValidationError;
    expect(error.fields).toEqual([
      { path: 'firstName', message: 'is required' },
      { path: 'lastName', message: 'must be a string' },
      { path: 'dob', message: 'must be a real date as YYYY-MM-DD, not in the future' },
      { path: 'email', message: 'must be an email address' },
    ]);
    expect(error.message).toBe(
      'CaryRx create patient: invalid input: firstName is required; lastName must be a string; dob must be a real date as YYYY-MM-DD, not in the future; email must be an email address',
    );
  });

  describe('simulator webhook faults', () => {
    async function newOrder(key: string) {
      const { order } = await flow.placeOrder({ idempotencyKey: key, patientHostReference: 'faults-patient', locationId, prescriptionIds: [prescriptionId] });
      return order;
    }
    const historyCount = (orderId: string) => ctx.t.dataSource.manager.countBy(OrderStatusHistory, { orderId });

    it('a duplicated webhook is applied once', async () => {
      const order = await newOrder('dup-webhook');
      ctx.sim.webhookFaults = { duplicateNext: 1 };
      ctx.sim.advance(order.providerOrderId!);
      await ctx.sim.flushWebhooks();
      expect(ctx.sim.webhookLog.filter((d) => d.body && (d.body as { id?: string }).id === order.providerOrderId)).toHaveLength(2);
      expect(await historyCount(order.id)).toBe(3); // created, pending (create), ready_to_fill
    });

    it('out-of-order delivery never moves an order backwards', async () => {
      const order = await newOrder('out-of-order');
      ctx.sim.webhookFaults = { hold: true };
      ctx.sim.advance(order.providerOrderId!); // ready_to_fill
      ctx.sim.advance(order.providerOrderId!); // filled
      ctx.sim.advance(order.providerOrderId!); // shipped
      ctx.sim.releaseHeld(); // shipped, filled, ready_to_fill
      await ctx.sim.flushWebhooks();
      const stored = await ctx.t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { id: order.id });
      expect(stored).toMatchObject({ status: 'in_transit', providerStatus: 'shipped' });
      expect(await historyCount(order.id)).toBe(3); // created, pending, shipped
    });

    it('a dropped webhook is caught up by refreshOrder (GET, source sync)', async () => {
      const order = await newOrder('dropped');
      ctx.sim.webhookFaults = { dropNext: 1 };
      ctx.sim.advance(order.providerOrderId!);
      await ctx.sim.flushWebhooks();
      expect((await ctx.t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { id: order.id })).providerStatus).toBe('pending');
      const refreshed = await flow.refreshOrder(order.id);
      expect(refreshed.providerStatus).toBe('ready_to_fill');
      expect(ctx.sim.orderGetCount(order.providerOrderId!)).toBe(1);
      const last = ctx.t.events.filter((e) => e.name === FulfilmentEvents.OrderStatusChanged).at(-1)?.payload as OrderStatusChangedEvent;
      expect(last).toMatchObject({ orderId: order.id, providerStatus: 'ready_to_fill', source: 'sync' });
    });

    it('the simulator answers 401 without the right apikey and 400 on an invalid body', async () => {
      const invalid = await fetch(`${ctx.sim.url}/v1/patients`, {
        method: 'POST',
        headers: { apikey: ctx.sim.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ first_name: 'a' }),
      });
      expect(invalid.status).toBe(400);
      const res = await fetch(`${ctx.sim.url}/v1/orders/abc`, { headers: { apikey: 'wrong' } });
      expect(res.status).toBe(401);
      const none = await fetch(`${ctx.sim.url}/v1/orders/abc`);
      expect(none.status).toBe(401);
    });
  });
});
