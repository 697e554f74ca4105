import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { SCRIPTDROP_MESSAGES } from 'nestjs-fulfilment';
import { ScriptDropSimulator } from 'nestjs-fulfilment/testing';
import { orderToWire, requestFromWire, requestToWire, wirePath } from '../../libs/fulfilment/src/scriptdrop/scriptdrop.wire.js';
import { SCRIPTDROP_RULE_CASES, base, set, type Level } from '../fixtures/scriptdrop-rule-cases.js';

/** Over raw HTTP, the simulator refuses what ScriptDrop refuses: the client's rule cases, one request each. */
describe('ScriptDrop simulator: every documented rule is enforced on the wire', () => {
  const sim = new ScriptDropSimulator({ apiKey: 'pk_rules', apiSecret: 'sk_rules_secret_0001', stepMs: 0 });
  const auth = { authorization: `Basic ${Buffer.from('pk_rules:sk_rules_secret_0001').toString('base64')}`, 'content-type': 'application/json' };
  const post = (path: string, body: unknown) => fetch(`${sim.url}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });

  beforeAll(async () => {
    await sim.start();
  });
  afterAll(async () => {
    await sim.stop();
  });

  const levels: Level[] = ['sameday', 'ondemand', 'shipping', 'ups', 'fedex'];

  it.each(levels)('the wire body is the domain input key for key (%s): no second mapping', (level) => {
    const input = base(level);
    const wire = JSON.parse(JSON.stringify(orderToWire(input)));
    expect(requestToWire(JSON.parse(JSON.stringify(input)))).toEqual(wire);
    expect(requestFromWire(wire)).toEqual(JSON.parse(JSON.stringify(input)));
  });

  it.each(levels)('accepts the valid %s base request', async (level) => {
    const res = await post('/api/v1/orders', orderToWire(base(level)));
    expect(res.status).toBe(200);
  });

  it.each(SCRIPTDROP_RULE_CASES.map((c) => [c.rule, c] as const))('refuses with a 400: %s', async (_rule, c) => {
    const input = base(c.level) as unknown as Record<string, unknown>;
    for (const [path, value] of Object.entries(c.changes)) set(input, path, value);
    const before = sim.orders.size;

    const res = await post('/api/v1/orders', requestToWire(input));

    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error)).toEqual(['message']);
    const { message } = body.error;
    if (message === SCRIPTDROP_MESSAGES.noSaturdayDelivery) {
      // The document's own message for this rule.
      expect(c.paths).toEqual(['shipping.saturdayDelivery']);
    } else {
      // The first broken rule, named by its wire path (`shipping.carrier_service …`).
      expect(c.paths.map(wirePath).some((p) => message.startsWith(`${p} `))).toBe(true);
    }
    expect(sim.orders.size).toBe(before);
  });

  it('seedOrder applies the same rules, also to a body seeded before', () => {
    const body = orderToWire(base('sameday')) as unknown as Record<string, unknown>;
    sim.seedOrder(body);
    sim.seedOrder(body);
    expect(() => sim.seedOrder({ ...body, delivery_fee: '5.00' })).toThrow('ScriptDrop simulator: delivery_fee must be a number');
    (body.pharmacy as Record<string, unknown>).npi = '1';
    expect(() => sim.seedOrder(body)).toThrow('ScriptDrop simulator: pharmacy.npi must be exactly 10 digits');
  });

  it('add-prescription bodies follow the same rules', async () => {
    const created = (await (await post('/api/v1/orders', orderToWire(base('sameday')))).json()) as { order: { id: string } };
    const { date_of_service: _d, ...rx } = orderToWire(base('sameday')).prescriptions[0];
    const ok = await post(`/api/v1/orders/${created.order.id}/prescriptions`, { ...rx, number: 'rx-2' });
    expect(ok.status).toBe(200);
    const badNdc = await post(`/api/v1/orders/${created.order.id}/prescriptions`, { ...rx, ndc: '123' });
    expect(badNdc.status).toBe(400);
    expect(await badNdc.json()).toEqual({ error: { message: 'ndc must be exactly 11 digits' } });
    const withDate = await post(`/api/v1/orders/${created.order.id}/prescriptions`, { ...rx, date_of_service: '2019-02-03' });
    expect(await withDate.json()).toEqual({ error: { message: 'date_of_service is not a known field' } });
  });
});
