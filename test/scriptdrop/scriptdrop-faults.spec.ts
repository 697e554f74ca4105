import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  FulfilmentOrder,
  OrderOutcomeUnknownError,
  OrderStatusHistory,
  ProviderNotFoundError,
  ProviderTimeoutError,
  ProviderValidationError,
} from 'nestjs-fulfilment';
import { SCRIPTDROP_DOC_INPUT, SCRIPTDROP_DOC_WIRE } from '../fixtures/scriptdrop-examples.js';
import { readStatuses, advanceTo, startScriptDrop, type ScriptDropTestContext } from './support.js';

const withoutOwnReference = () => {
  const { externalReferenceNumber: _own, ...order } = SCRIPTDROP_DOC_INPUT.sameday();
  return order;
};

describe('ScriptDrop under faults', () => {
  let ctx: ScriptDropTestContext;

  beforeAll(async () => {
    ctx = await startScriptDrop();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it('429 (no Retry-After, as documented) on get: retried with backoff, then succeeds', async () => {
    const { id } = await ctx.api.createOrder(SCRIPTDROP_DOC_INPUT.sameday());
    ctx.sim.addFault({ method: 'GET', path: '/api/v1/orders/:id', kind: 'status', status: 429, times: 2 });
    const order = await ctx.api.getOrder(id);
    expect(order.id).toBe(id);
    expect(ctx.sim.countRequests('GET', `/api/v1/orders/${id}`)).toBe(3);
    expect(ctx.sim.readCount(id)).toBe(1);
  });

  it('503 on get multiple: retried, then every order is read once', async () => {
    const a = await ctx.api.createOrder(SCRIPTDROP_DOC_INPUT.sameday());
    const b = await ctx.api.createOrder(SCRIPTDROP_DOC_INPUT.shipping());
    ctx.sim.addFault({ method: 'GET', path: '/api/v1/orders', kind: 'status', status: 503, times: 1 });
    const observations = await readStatuses(ctx, [a.id, b.id]);
    expect([...observations.keys()].sort()).toEqual([a.id, b.id].sort());
    expect(ctx.sim.readCount(a.id)).toBe(1);
    expect(ctx.sim.readCount(b.id)).toBe(1);
  });

  it('503 on create: ScriptDrop declined it, so it is retried and created once', async () => {
    const before = ctx.sim.orders.size;
    ctx.sim.addFault({ method: 'POST', path: '/api/v1/orders', kind: 'status', status: 503, times: 1 });
    const { order } = await ctx.flow.createDelivery({ idempotencyKey: 'after-503', order: withoutOwnReference() });
    expect(order.status).toBe('accepted');
    expect(ctx.sim.orders.size).toBe(before + 1);
  });

  it('a create that times out is not re-sent: one create at ScriptDrop, the order stored as unknown', async () => {
    ctx.sim.resetRequestLog();
    ctx.sim.addFault({ method: 'POST', path: '/api/v1/orders', kind: 'hang', times: 1 });
    const error = (await ctx.flow
      .createDelivery({ idempotencyKey: 'hung-create', order: withoutOwnReference() }, { timeoutMs: 300 })
      .catch((e: unknown) => e)) as OrderOutcomeUnknownError;
    expect(error).toBeInstanceOf(OrderOutcomeUnknownError);
    expect(error.cause).toBeInstanceOf(ProviderTimeoutError);
    expect((error.cause as ProviderTimeoutError).outcomeUnknown).toBe(true);
    expect(ctx.sim.createCount()).toBe(1);

    const row = await ctx.t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { idempotencyKey: 'hung-create' });
    expect(row).toMatchObject({ status: 'unknown', providerOrderId: null, provider: 'scriptdrop' });
    expect(row.lastError).toMatch(/timed out/);
    const history = await ctx.t.dataSource.manager.find(OrderStatusHistory, { where: { orderId: row.id }, order: { createdAt: 'ASC' } });
    expect(history.map((h) => h.toStatus)).toEqual(['created', 'unknown']);

    // Asking again with the same key returns the stored order; still one create.
    const again = await ctx.flow.createDelivery({ idempotencyKey: 'hung-create', order: withoutOwnReference() });
    expect(again).toMatchObject({ created: false, order: { id: row.id, status: 'unknown' } });
    expect(ctx.sim.createCount()).toBe(1);
    // Without a ScriptDrop id there is nothing to refresh or cancel yet.
    await expect(ctx.flow.refresh(row.id)).rejects.toThrow(/create outcome is unknown/);
  });

  describe('a DELETE whose first answer was lost', () => {
    let n = 0;
    const deliver = async () =>
      (await ctx.flow.createDelivery({ idempotencyKey: `dropped-delete-${++n}`, order: withoutOwnReference() })).order;

    it('cancel: the first attempt cancelled, the retry got 400 "not cancellable": reported as cancelled', async () => {
      const order = await deliver();
      const path = `/api/v1/orders/${order.providerOrderId}`;
      ctx.sim.addFault({ method: 'DELETE', path, kind: 'drop-response', times: 1 });
      const cancelled = await ctx.flow.cancel(order.id);
      expect([cancelled.status, cancelled.providerStatus]).toEqual(['cancelled', 'cancelled']);
      expect(ctx.sim.requests.filter((r) => r.method === 'DELETE' && r.path === path).map((r) => r.status)).toEqual([204, 400]);
    });

    it('remove prescription: the first attempt removed it, the retry got 404: reported as removed', async () => {
      const order = await deliver();
      const path = `/api/v1/orders/${order.providerOrderId}/prescriptions/897234`;
      ctx.sim.addFault({ method: 'DELETE', path, kind: 'drop-response', times: 1 });
      const view = await ctx.flow.removePrescription(order.id, '897234');
      expect(view.id).toBe(order.id);
      expect(ctx.sim.orders.get(order.providerOrderId!)!.prescriptionNumbers).toEqual([]);
      expect(ctx.sim.requests.filter((r) => r.method === 'DELETE' && r.path === path).map((r) => r.status)).toEqual([204, 404]);
    });

    it('an honest refusal (no ambiguous attempt) still throws the typed error', async () => {
      const order = await deliver();
      advanceTo(ctx.sim, order.providerOrderId!, 'picked_up');
      const error = (await ctx.flow.cancel(order.id).catch((e: unknown) => e)) as ProviderValidationError;
      expect(error).toBeInstanceOf(ProviderValidationError);
      expect(error.earlierFailures).toEqual([]);
      await expect(ctx.flow.removePrescription(order.id, 'not-on-it')).rejects.toBeInstanceOf(ProviderNotFoundError);
    });

    it('a 500 that did nothing, then a refusal: the order reads back not cancelled, so the typed error', async () => {
      const order = await deliver();
      advanceTo(ctx.sim, order.providerOrderId!, 'picked_up');
      ctx.sim.addFault({ method: 'DELETE', path: `/api/v1/orders/${order.providerOrderId}`, kind: 'status', status: 500, times: 1 });
      const error = (await ctx.flow.cancel(order.id).catch((e: unknown) => e)) as ProviderValidationError;
      expect(error).toBeInstanceOf(ProviderValidationError);
      expect(error.earlierAttemptMayHaveSucceeded).toBe(true);
      expect(ctx.sim.orders.get(order.providerOrderId!)!.status).toBe('picked_up');
    });
  });

  it('holds 10,000 orders and serves multi-gets of 50 without reading any order twice', async () => {
    const body = { ...SCRIPTDROP_DOC_WIRE.sameday } as Record<string, unknown>;
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) ids.push(ctx.sim.seedOrder(body).id);
    for (const id of ids.slice(0, 5000)) ctx.sim.advance(id);
    ctx.sim.resetReadCounts();
    const before = ctx.sim.countRequests('GET', '/api/v1/orders');

    let seen = 0;
    for (let i = 0; i < ids.length; i += 50) {
      const batch = ids.slice(i, i + 50);
      const observations = await readStatuses(ctx, batch);
      expect(observations.size).toBe(batch.length);
      seen += observations.size;
    }
    expect(seen).toBe(10_000);
    expect(ctx.sim.countRequests('GET', '/api/v1/orders') - before).toBe(200);
    expect(ids.every((id) => ctx.sim.readCount(id) === 1)).toBe(true);
    expect(ctx.sim.orders.get(ids[0])!.status).toBe('submitted to courier');
    expect(ctx.sim.orders.get(ids[9999])!.status).toBe('new');
  });
});
