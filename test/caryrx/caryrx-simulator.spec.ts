import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { CaryRxSimulator } from 'nestjs-fulfilment/testing';

/** The simulator answers what the CaryRx document shows, and more only when asked (real HTTP). */
describe('CaryRx simulator: documented-only by default', () => {
  let sim: CaryRxSimulator;
  let orderId: string;
  let prescriptionId: string;

  const get = async (path: string) => (await fetch(`${sim.url}${path}`, { headers: { apikey: sim.apiKey } })).json() as Promise<Record<string, unknown>>;
  const post = async (path: string, body: unknown) =>
    (await fetch(`${sim.url}${path}`, { method: 'POST', headers: { apikey: sim.apiKey, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<Record<string, any>>;

  beforeAll(async () => {
    sim = new CaryRxSimulator({ apiKey: 'sim-spec-key' });
    await sim.start();
    const patient = await post('/v1/patients', { first_name: 'test', last_name: 'patient', dob: '2000-01-01' });
    const location = await post(`/v1/patients/${patient.id}/location`, { patientId: patient.id, address_to_street1: '1 main st', address_to_city: 'new york', address_to_state: 'ny', address_to_zip: '10001' });
    const rx = await post('/v1/prescriptions', { patientId: patient.id, medication_name: 'atorvastatin', qty_written: 30, refills_written: 0, days_supply: 30 });
    prescriptionId = rx.id;
    const order = await post('/v1/orders', { shipping_method: 'sameday_delivery', central_fill: false, patient_id: patient.id, patient_location_id: location.id, prescriptions: [{ id: rx.id }], order_status: 'pending' });
    orderId = order.id;
    sim.advance(orderId);
    sim.advance(orderId);
    sim.advance(orderId); // shipped: tracking set
  });
  afterAll(async () => sim?.stop());

  it('get order has no tracking fields unless trackingOnRead is on', async () => {
    expect(await get(`/v1/orders/${orderId}`)).not.toHaveProperty('shipment_tracking_url');
    sim.undocumented.trackingOnRead = true;
    try {
      expect((await get(`/v1/orders/${orderId}`)).shipment_tracking_url).toContain(orderId);
    } finally {
      sim.undocumented.trackingOnRead = false;
    }
  });

  it('events carry no timestamp unless eventTimestamps is on', () => {
    const order = sim.orders.get(orderId)!;
    expect(sim.orderEvent(order)).not.toHaveProperty('updated_at');
    sim.undocumented.eventTimestamps = true;
    try {
      expect(sim.orderEvent(order).updated_at).toBe(order.updatedAt);
    } finally {
      sim.undocumented.eventTimestamps = false;
    }
  });

  it('get prescription fills the prescriber block and rx_number, as the document does', async () => {
    const rx = await get(`/v1/prescriptions/${prescriptionId}`);
    expect(rx.rx_number).toEqual(expect.any(Number));
    expect(rx.prescriber).toMatchObject({ prescriber_name: 'peter brown', prescriber_zip: '20001', prescriber_npi: null });
  });
});
