import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';
import { ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { FulfilmentEvents, FulfilmentOrder, OrderStatusHistory, OrderTransitionService, Prescription, WebhookInboxEvent, type WebhookRejectedEvent } from 'nestjs-fulfilment';
import { CARYRX_ORDER_TEST_PAYLOAD, CARYRX_PRESCRIPTION_TEST_PAYLOAD } from 'nestjs-fulfilment/testing';
import { CARYRX_DOC_PRESCRIPTION } from '../fixtures/caryrx-examples.js';
import { seedOrder } from '../support/seed-orders.js';
import { SECRET, SECRET_2, inBatches, postWebhook, startCaryRx, webhookUrl, type CaryRxTestContext } from './support.js';

const MAX_BODY = 4096;

describe('CaryRx webhooks', () => {
  let ctx: CaryRxTestContext;
  const em = () => ctx.t.dataSource.manager;
  const inboxCount = () => em().count(WebhookInboxEvent);

  beforeAll(async () => {
    // A host with a strict global pipe: vendor fields must still be tolerated on our routes.
    ctx = await startCaryRx(
      { webhooks: { maxBodyBytes: MAX_BODY } },
      { providers: [{ provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }) }] },
    );
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const seedCaryRxOrder = (providerOrderId: string, providerStatus = 'pending'): Promise<FulfilmentOrder> =>
    seedOrder(ctx.t.dataSource, { provider: 'caryrx', providerOrderId, idempotencyKey: `seed-${providerOrderId}`, providerStatus, serviceLevel: 'sameday_delivery' });
  const historyOf = (orderId: string) => em().find(OrderStatusHistory, { where: { orderId } });

  it('accepts the doc’s prescription test payload verbatim: stored as a test, no prescription created', async () => {
    const res = await postWebhook(webhookUrl(ctx.t, 'prescriptions'), CARYRX_PRESCRIPTION_TEST_PAYLOAD);
    expect(res).toMatchObject({ status: 200, body: { received: true, duplicate: false, outcome: 'test' } });
    expect(await em().count(Prescription)).toBe(0);
  });

  it('accepts the doc’s order sample verbatim and applies it to order d1abcxox', async () => {
    const order = await seedCaryRxOrder('d1abcxox');
    const res = await postWebhook(webhookUrl(ctx.t, 'orders'), CARYRX_ORDER_TEST_PAYLOAD);
    expect(res).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    const stored = await em().findOneByOrFail(FulfilmentOrder, { id: order.id });
    expect(stored).toMatchObject({ status: 'accepted', providerStatus: 'ready_to_fill', trackingUrl: 'string' });
    expect(stored.eta).toEqual(new Date('2020-12-15T19:56:49.685Z'));
    const rows = await historyOf(order.id);
    expect(rows.map((h) => [h.fromProviderStatus, h.toProviderStatus, h.source])).toEqual([['pending', 'ready_to_fill', 'webhook']]);
    const inbox = await em().findOneByOrFail(WebhookInboxEvent, { topic: 'caryrx.order', entityId: 'd1abcxox' });
    expect(inbox.payload).not.toMatch(/address|sameday_location|packaging/);
    const changed = ctx.t.events.filter((e) => e.name === FulfilmentEvents.OrderStatusChanged);
    expect(changed.at(-1)?.payload).toMatchObject({ orderId: order.id, providerStatus: 'ready_to_fill', source: 'webhook' });
  });

  it('accepts a prescription event (the get-prescription sample): upserted, `received` emitted', async () => {
    const res = await postWebhook(webhookUrl(ctx.t, 'prescriptions'), CARYRX_DOC_PRESCRIPTION);
    expect(res).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    const row = await em().findOneByOrFail(Prescription, { providerPrescriptionId: 'uccmdxbo8y' });
    expect(row).toMatchObject({ provider: 'caryrx', status: 'verified', providerPatientId: 'wuyhosgwuc' });
    expect(ctx.t.events.filter((e) => e.name === FulfilmentEvents.PrescriptionReceived)).toHaveLength(1);
    const update = await postWebhook(webhookUrl(ctx.t, 'prescriptions'), { ...CARYRX_DOC_PRESCRIPTION, status: 'filled', updated_at: '2026-01-01T00:00:00.000Z' });
    expect(update.body.outcome).toBe('applied');
    expect(ctx.t.events.filter((e) => e.name === FulfilmentEvents.PrescriptionUpdated).map((e) => e.payload)).toEqual([
      expect.objectContaining({ previousStatus: 'verified', status: 'filled' }),
    ]);
    const older = await postWebhook(webhookUrl(ctx.t, 'prescriptions'), { ...CARYRX_DOC_PRESCRIPTION, status: 'pending', updated_at: '2025-01-01T00:00:00.000Z' });
    expect(older.body.outcome).toBe('stale');
    expect((await em().findOneByOrFail(Prescription, { providerPrescriptionId: 'uccmdxbo8y' })).status).toBe('filled');
  });

  it('accepts the second secret (rotation); a wrong or missing token is 401, stored nowhere, announced', async () => {
    const ok = await postWebhook(webhookUrl(ctx.t, 'orders', SECRET_2), { id: 'rotation1', order_status: 'pending' });
    expect(ok.status).toBe(200);
    const before = await inboxCount();
    const rejectedBefore = ctx.t.events.filter((e) => e.name === FulfilmentEvents.WebhookRejected).length;
    for (const token of ['wrong-token-wrong-token', `${SECRET}x`, SECRET.slice(0, -1), '', null]) {
      const res = await postWebhook(webhookUrl(ctx.t, 'orders', token), { id: 'nope', order_status: 'pending' });
      expect(res.status).toBe(401);
      expect(JSON.stringify(res.body)).not.toContain(SECRET);
    }
    const prescriptions = await postWebhook(webhookUrl(ctx.t, 'prescriptions', 'bad-token-bad-token'), CARYRX_DOC_PRESCRIPTION);
    expect(prescriptions.status).toBe(401);
    expect(await inboxCount()).toBe(before);
    const rejected = ctx.t.events.filter((e) => e.name === FulfilmentEvents.WebhookRejected).slice(rejectedBefore).map((e) => e.payload as WebhookRejectedEvent);
    expect(rejected).toHaveLength(6);
    expect(rejected[0]).toMatchObject({ provider: 'caryrx', topic: 'caryrx.order', reason: 'unauthorized' });
    expect(rejected[5]).toMatchObject({ topic: 'caryrx.prescription', reason: 'unauthorized' });
  });

  it('answers 400 naming the field for malformed JSON, wrong types and missing ids; stores nothing', async () => {
    const before = await inboxCount();
    const malformed = await postWebhook(webhookUrl(ctx.t, 'orders'), '{"id": "abc", "order_status": ');
    expect(malformed.status).toBe(400);

    const cases: Array<[unknown, string[]]> = [
      [{ order_status: 'shipped' }, ['id']],
      [{ id: '', order_status: 'shipped' }, ['id']],
      [{ id: 42, order_status: 'shipped' }, ['id']],
      [{ id: 'o1', order_status: 7 }, ['order_status']],
      [{ id: 'o1' }, ['order_status']],
      [{ id: 'o1', order_status: 'shipped', updated_at: 'yesterday' }, ['updated_at']],
      [{ id: 'o1', order_status: 'shipped', patient: { id: 3 } }, ['patient.id']],
      [{ id: 'o1', order_status: 'shipped', prescriptions: [{ entity_type: 'prescription' }] }, ['prescriptions[0].id']],
      [{ id: 'o1', order_status: 'shipped', prescriptions: 'x' }, ['prescriptions']],
      [[{ id: 'o1', order_status: 'shipped' }], ['(body)']],
    ];
    for (const [body, fields] of cases) {
      const res = await postWebhook(webhookUrl(ctx.t, 'orders'), body);
      expect(res.status).toBe(400);
      expect(res.body.fields.map((f: { path: string }) => f.path)).toEqual(fields);
    }
    const rx = await postWebhook(webhookUrl(ctx.t, 'prescriptions'), { status: 'pending' });
    expect(rx.status).toBe(400);
    expect(rx.body.fields.map((f: { path: string }) => f.path)).toEqual(['id']);
    expect(await inboxCount()).toBe(before);
    const last = ctx.t.events.filter((e) => e.name === FulfilmentEvents.WebhookRejected).at(-1)?.payload as WebhookRejectedEvent;
    expect(last).toMatchObject({ reason: 'invalid_body', fields: ['id'] });
  });

  it('tolerates unknown vendor fields despite the host’s strict global pipe', async () => {
    const res = await postWebhook(webhookUrl(ctx.t, 'orders'), { id: 'vendor1', order_status: 'pending', brand_new_field: { x: 1 }, flags: null });
    expect(res).toMatchObject({ status: 200, body: { outcome: 'unmatched' } });
  });

  it('answers 413 above webhooks.maxBodyBytes, by content-length and by actual size', async () => {
    const before = await inboxCount();
    const big = { id: 'big1', order_status: 'pending', padding: 'x'.repeat(MAX_BODY) };
    expect((await postWebhook(webhookUrl(ctx.t, 'orders'), big)).status).toBe(413);
    // Chunked: no content-length, the parsed size is checked.
    const chunked = await fetch(webhookUrl(ctx.t, 'orders'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(JSON.stringify(big)));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await inboxCount()).toBe(before);
    expect(ctx.t.events.filter((e) => e.name === FulfilmentEvents.WebhookRejected).at(-1)?.payload).toMatchObject({ reason: 'too_large' });
  });

  it('applies 1,000 copies of one event once (one history row)', async () => {
    const order = await seedCaryRxOrder('dup0000001');
    const event = { id: 'dup0000001', order_status: 'ready_to_fill', updated_at: '2026-02-01T10:00:00.000Z', address_to_name: 'someone' };
    const statuses: number[] = [];
    await inBatches(Array.from({ length: 1000 }), 50, async () => {
      statuses.push((await postWebhook(webhookUrl(ctx.t, 'orders'), event)).status);
    });
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(await historyOf(order.id)).toHaveLength(1);
    expect(await em().countBy(WebhookInboxEvent, { topic: 'caryrx.order', entityId: 'dup0000001' })).toBe(1);
    expect((await em().findOneByOrFail(FulfilmentOrder, { id: order.id })).version).toBe(1);
    // Without a timestamp the body's hash is the key: a byte-identical redelivery is also one event.
    const untimed = { id: 'dup0000001', order_status: 'filled' };
    const a = await postWebhook(webhookUrl(ctx.t, 'orders'), untimed);
    const b = await postWebhook(webhookUrl(ctx.t, 'orders'), { order_status: 'filled', id: 'dup0000001' });
    expect([a.body.duplicate, b.body.duplicate]).toEqual([false, true]);
    expect(await historyOf(order.id)).toHaveLength(2);
  });

  it('never lets an older event overwrite a newer state (outcome stale, no history row)', async () => {
    const order = await seedCaryRxOrder('ooo0000001');
    const newer = await postWebhook(webhookUrl(ctx.t, 'orders'), { id: 'ooo0000001', order_status: 'shipped', updatedAt: '2026-03-01T12:00:00.000Z', shipment_tracking_url: 'https://t.test/1' });
    expect(newer.body.outcome).toBe('applied');
    const historyBefore = await historyOf(order.id);
    const older = await postWebhook(webhookUrl(ctx.t, 'orders'), { id: 'ooo0000001', order_status: 'ready_to_fill', updated_at: '2026-03-01T11:00:00.000Z' });
    expect(older).toMatchObject({ status: 200, body: { outcome: 'stale' } });
    const stored = await em().findOneByOrFail(FulfilmentOrder, { id: order.id });
    expect(stored).toMatchObject({ status: 'in_transit', providerStatus: 'shipped', trackingUrl: 'https://t.test/1' });
    expect(await historyOf(order.id)).toHaveLength(historyBefore.length);
    expect((await em().findOneByOrFail(WebhookInboxEvent, { entityId: 'ooo0000001', providerStatus: 'ready_to_fill' })).outcome).toBe('stale');
  });

  it('stores an event for an unknown order as unmatched, and nothing else', async () => {
    const orders = await em().count(FulfilmentOrder);
    const res = await postWebhook(webhookUrl(ctx.t, 'orders'), { id: 'unknown001', order_status: 'shipped', updated_at: '2026-01-01T00:00:00.000Z' });
    expect(res.body).toMatchObject({ outcome: 'unmatched' });
    expect(await em().count(FulfilmentOrder)).toBe(orders);
  });

  it('stores the event as failed and still answers 2xx when applying throws', async () => {
    await seedCaryRxOrder('fail000001');
    const spy = jest.spyOn(ctx.t.app.get(OrderTransitionService), 'applyByProviderId').mockRejectedValueOnce(new Error('boom'));
    const res = await postWebhook(webhookUrl(ctx.t, 'orders'), { id: 'fail000001', order_status: 'filled', updated_at: '2026-01-01T00:00:00.000Z' });
    spy.mockRestore();
    expect(res).toMatchObject({ status: 200, body: { outcome: 'failed' } });
    const row = await em().findOneByOrFail(WebhookInboxEvent, { entityId: 'fail000001' });
    expect(row.outcome).toBe('failed');
    expect(row.error).toContain('boom');
  });
});
