import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { FulfilmentOrder } from 'nestjs-fulfilment';
import { SCRIPTDROP_DOC_INPUT, SCRIPTDROP_DOC_PRINTED_SHIPPING, SCRIPTDROP_DOC_WIRE } from '../fixtures/scriptdrop-examples.js';
import { advanceTo, startScriptDrop, type ScriptDropTestContext } from './support.js';

const LEVELS = ['sameday', 'ondemand', 'shipping'] as const;

describe('ScriptDrop: the document’s examples over real HTTP', () => {
  let ctx: ScriptDropTestContext;

  beforeAll(async () => {
    ctx = await startScriptDrop();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it.each(LEVELS)('%s: the domain input reaches ScriptDrop as the document’s body, field for field', async (level) => {
    const before = ctx.sim.createBodies.length;
    const order = await ctx.api.createOrder(SCRIPTDROP_DOC_INPUT[level]());
    expect(ctx.sim.createBodies).toHaveLength(before + 1);
    expect(ctx.sim.createBodies[before]).toEqual(SCRIPTDROP_DOC_WIRE[level]);
    expect(order.status).toBe('new');
    expect(ctx.sim.orders.get(order.id)?.serviceLevel).toBe(level);
  });

  it('shipping: `delivery_notes: nil` is sent as null; the printed `_comment` is documentation and not sent', () => {
    const shipping = ctx.sim.createBodies.find((b) => (b as { service_level?: string }).service_level === 'shipping') as Record<string, any>;
    expect(shipping).toHaveProperty('delivery_notes', null);
    expect(shipping.shipping.dimensions).not.toHaveProperty('_comment');
    const { _comment, ...printedDimensions } = SCRIPTDROP_DOC_PRINTED_SHIPPING.shipping.dimensions;
    expect(_comment).toContain('not required');
    expect(shipping.shipping.dimensions).toEqual(printedDimensions);
  });

  it('sameday through createDelivery: the idempotency key is the external reference number, the rest unchanged', async () => {
    const before = ctx.sim.createBodies.length;
    const { order, created } = await ctx.flow.createDelivery({ idempotencyKey: '238947', order: SCRIPTDROP_DOC_INPUT.sameday() });
    expect(created).toBe(true);
    expect(ctx.sim.createBodies[before]).toEqual(SCRIPTDROP_DOC_WIRE.sameday);
    expect(order).toMatchObject({ provider: 'scriptdrop', status: 'accepted', providerStatus: 'new', serviceLevel: 'sameday', idempotencyKey: '238947' });
    expect(ctx.sim.orders.get(order.providerOrderId!)?.externalReferenceNumber).toBe('238947');
  });

  it('ondemand through createDelivery: the body is the document’s plus external_reference_number', async () => {
    const before = ctx.sim.createBodies.length;
    await ctx.flow.createDelivery({ idempotencyKey: 'ondemand-key-1', order: SCRIPTDROP_DOC_INPUT.ondemand() });
    expect(ctx.sim.createBodies[before]).toEqual({ ...SCRIPTDROP_DOC_WIRE.ondemand, external_reference_number: 'ondemand-key-1' });
  });

  it('answers every status with the blocks the document shows for it, mapped to typed objects', async () => {
    const created = await ctx.api.createOrder(SCRIPTDROP_DOC_INPUT.sameday());
    const id = created.id;
    const wire = async () => {
      const res = await fetch(`${ctx.sim.url}/api/v1/orders/${id}`, {
        headers: { authorization: `Basic ${Buffer.from(`${ctx.sim.apiKey}:${ctx.sim.apiSecret}`).toString('base64')}` },
      });
      return ((await res.json()) as { order: Record<string, unknown> }).order;
    };
    const keys = ['id', 'external_reference_number', 'status', 'pickup', 'delivery', 'return', 'shipping', 'cancellation', 'eta'].sort();

    // new: every block null
    expect(Object.keys(await wire()).sort()).toEqual(keys);
    expect(await wire()).toMatchObject({ status: 'new', pickup: null, delivery: null, return: null, shipping: null, cancellation: null, eta: null });

    ctx.sim.advance(id);
    expect(await wire()).toMatchObject({ status: 'submitted to courier', pickup: null, eta: { type: 'pickup' } });
    const submitted = await ctx.api.getOrder(id);
    expect(submitted.status).toBe('submitted to courier');
    expect(submitted.eta?.type).toBe('pickup');
    expect(submitted.eta?.arrivalAt).toBeInstanceOf(Date);

    ctx.sim.advance(id);
    const pickedUp = await ctx.api.getOrder(id);
    expect(pickedUp).toMatchObject({ status: 'picked_up', delivery: null, eta: { type: 'delivery' } });
    expect(pickedUp.pickup?.occurredAt).toBeInstanceOf(Date);

    ctx.sim.advance(id);
    const w = await wire();
    expect(Object.keys(w.delivery as object).sort()).toEqual(
      ['occurred_at', 'signature_url', 'signed_by', 'relationship', 'other_relationship_description', 'recipient_identification', 'failure_reason'].sort(),
    );
    const delivered = await ctx.api.getOrder(id);
    expect(delivered.status).toBe('delivered');
    expect(delivered.delivery).toMatchObject({ signedBy: 'John Doe', relationship: 'Other', otherRelationshipDescription: 'Sibling', failureReason: null });
    // Short-lived: a new signature URL on each read.
    const again = await ctx.api.getOrder(id);
    expect(again.delivery?.signatureUrl).toMatch(/^https:\/\//);
    expect(again.delivery?.signatureUrl).not.toBe(delivered.delivery?.signatureUrl);
  });

  it('a failed courier delivery: delivery_attempted with a failure reason, then returned_to_pharmacy with the return block', async () => {
    const { id } = await ctx.api.createOrder(SCRIPTDROP_DOC_INPUT.sameday());
    ctx.sim.failDelivery(id);
    advanceTo(ctx.sim, id, 'delivery_attempted');
    const attempted = await ctx.api.getOrder(id);
    expect(attempted.delivery).toMatchObject({ failureReason: 'Patient Not Home', signatureUrl: null, signedBy: null });
    ctx.sim.advance(id);
    const returned = await ctx.api.getOrder(id);
    expect(returned.status).toBe('returned_to_pharmacy');
    expect(returned.return?.occurredAt).toBeInstanceOf(Date);
    expect(ctx.sim.advance(id)).toEqual([]);
  });

  it('photo ID collected at delivery: recipient identification with its qualifier described', async () => {
    const { id } = await ctx.api.createOrder({ ...SCRIPTDROP_DOC_INPUT.sameday(), photoIdRequired: true });
    advanceTo(ctx.sim, id, 'delivered');
    const order = await ctx.api.getOrder(id);
    expect(order.delivery?.recipientIdentification).toEqual({
      number: 'TT123456789',
      jurisdictionCode: 'OH',
      qualifier: '06',
      type: 'Driver License ID',
      qualifierDescription: 'Driver’s License ID',
    });
  });

  it('shipping: tracking number, label and cost at creation, then delivered with shipping.delivery', async () => {
    const created = await ctx.api.createOrder(SCRIPTDROP_DOC_INPUT.shipping());
    expect(created.shipping).toMatchObject({ carrier: 'USPS', carrierService: 'USPS Priority Mail', saturdayDelivery: false, delivery: null });
    expect(created.shipping?.trackingNumber).toMatch(/^\d+$/);
    expect(created.shipping?.trackingUrl).toContain(created.shipping!.trackingNumber!);
    expect(created.shipping?.labelUrl).toMatch(/^https:\/\//);
    expect(created.shipping?.cost).toBeGreaterThan(0);
    expect(created.pickup).toBeNull();
    ctx.sim.advance(created.id);
    const delivered = await ctx.api.getOrder(created.id);
    expect(delivered.status).toBe('delivered');
    expect(delivered.shipping?.delivery?.occurredAt).toBeInstanceOf(Date);
    expect(delivered.delivery).toBeNull();
    expect(delivered.eta).toBeNull();
  });

  it('cancelled: the reason is read whichever key the simulator sends it under', async () => {
    const a = await ctx.api.createOrder(SCRIPTDROP_DOC_INPUT.sameday());
    await ctx.api.cancelOrder(a.id);
    const viaReason = await ctx.api.getOrder(a.id);
    ctx.sim.cancellationReasonKey = 'cancellation_reason';
    const viaTableKey = await ctx.api.getOrder(a.id);
    ctx.sim.cancellationReasonKey = 'reason';
    for (const o of [viaReason, viaTableKey]) {
      expect(o.status).toBe('cancelled');
      expect(o.cancellation?.reason).toBe('Patient no longer wants');
      expect(o.cancellation?.occurredAt).toBeInstanceOf(Date);
    }
  });

  it('stores no patient data for deliveries', async () => {
    const rows = await ctx.t.dataSource.manager.find(FulfilmentOrder);
    expect(JSON.stringify(rows)).not.toMatch(/JOHN|DOE|1230 Street|3335550000|2000-02-01/);
  });
});

describe('ScriptDrop simulator clock', () => {
  it('moves orders on its own every stepMs until they are terminal', async () => {
    const { ScriptDropSimulator } = await import('nestjs-fulfilment/testing');
    const sim = new ScriptDropSimulator({ stepMs: 5 });
    await sim.start();
    try {
      const order = sim.seedOrder({ ...SCRIPTDROP_DOC_WIRE.sameday });
      const seen = new Set<string>();
      for (let i = 0; i < 400 && sim.orders.get(order.id)!.status !== 'delivered'; i++) {
        seen.add(sim.orders.get(order.id)!.status);
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(sim.orders.get(order.id)!.status).toBe('delivered');
      expect(sim.openOrderCount()).toBe(0);
      expect([...seen].every((s) => ['new', 'submitted to courier', 'picked_up'].includes(s))).toBe(true);
    } finally {
      await sim.stop();
    }
  });
});

describe('ScriptDrop simulator seeding', () => {
  it('a new simulator hands out no id an earlier one did (a sandbox restarted on the same database)', async () => {
    const { ScriptDropSimulator } = await import('nestjs-fulfilment/testing');
    const first = new ScriptDropSimulator({ stepMs: 0 });
    const firstIds = [0, 1, 2].map(() => first.seedOrder({ ...SCRIPTDROP_DOC_WIRE.sameday }).id);
    const second = new ScriptDropSimulator({ stepMs: 0 });
    const secondId = second.seedOrder({ ...SCRIPTDROP_DOC_WIRE.sameday }).id;
    expect(firstIds).not.toContain(secondId);
    expect(Number(secondId)).toBeGreaterThan(Number(firstIds[2]));
    expect(secondId).toMatch(/^\d+$/);
  });

  it('seeds an order under a chosen id, readable over HTTP; refuses that id twice and an invalid body', async () => {
    const { ScriptDropSimulator } = await import('nestjs-fulfilment/testing');
    const sim = new ScriptDropSimulator({ stepMs: 0 });
    await sim.start();
    try {
      expect(sim.seedOrder({ ...SCRIPTDROP_DOC_WIRE.sameday }, { id: 'chosen-1' }).id).toBe('chosen-1');
      sim.advance('chosen-1');
      expect(() => sim.seedOrder({ ...SCRIPTDROP_DOC_WIRE.ondemand }, { id: 'chosen-1' })).toThrow('order chosen-1 exists already');
      expect(sim.orders.get('chosen-1')).toMatchObject({ serviceLevel: 'sameday', status: 'submitted to courier' });
      expect(() => sim.seedOrder({ service_level: 'sameday' }, { id: 'chosen-2' })).toThrow(/ScriptDrop simulator/);
      expect(sim.orders.has('chosen-2')).toBe(false);
      const res = await fetch(`${sim.url}/api/v1/orders/chosen-1`, {
        headers: { authorization: `Basic ${Buffer.from(`${sim.apiKey}:${sim.apiSecret}`).toString('base64')}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { order: { id: string; status: string } }).order).toMatchObject({ id: 'chosen-1', status: 'submitted to courier' });
    } finally {
      await sim.stop();
    }
  });
});
