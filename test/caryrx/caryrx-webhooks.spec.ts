import { describe, it, expect, beforeAll, afterAll, jest } from '@jest/globals';
import { connect } from 'node:net';
import { ValidationPipe, type NestInterceptor } from '@nestjs/common';
import { APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { FulfilmentEvents, FulfilmentOrder, OrderStatusHistory, Prescription, WebhookInboxEvent, type WebhookRejectedEvent } from 'nestjs-fulfilment';
import { OrderStore } from '../../libs/fulfilment/src/orders/order-store.js';
import { StoreDatabase } from '../../libs/fulfilment/src/orders/store/store-database.js';
import { CARYRX_ORDER_TEST_PAYLOAD, CARYRX_PRESCRIPTION_TEST_PAYLOAD } from 'nestjs-fulfilment/testing';
import { CARYRX_DOC_PRESCRIPTION } from '../fixtures/caryrx-examples.js';
import { seedOrder } from '../support/seed-orders.js';
import { postRaw, type RawAnswer, type RawRequest } from '../support/raw-http.js';
import { TEST_ADAPTERS, type TestAdapter, type TestAppExtras } from '../support/test-app.js';
import { SECRET, SECRET_2, inBatches, postWebhook, startCaryRx, webhookUrl, type CaryRxTestContext } from './support.js';

const MAX_BODY = 4096;

const big = (bytes: number) => JSON.stringify({ id: 'big1', order_status: 'pending', padding: 'x'.repeat(bytes) });
const TWO_MB = big(2_000_000);

/** Requests every adapter must refuse alike: what is answered, and the rejection it is announced as. */
const BAD_REQUESTS: Array<RawRequest & { name: string; token?: string | null; status: number; reason: string; fields?: string[] }> = [
  { name: 'a wrong token with a 2 MB JSON body', token: 'wrong-token-wrong-token', body: TWO_MB, status: 401, reason: 'unauthorized' },
  { name: 'a wrong token with a 2 MB body sent chunked', token: 'wrong-token-wrong-token', body: TWO_MB, chunked: true, status: 401, reason: 'unauthorized' },
  { name: 'a wrong token with a non-JSON body', token: 'wrong-token-wrong-token', headers: { 'content-type': 'text/plain' }, body: 'not json at all', status: 401, reason: 'unauthorized' },
  { name: 'no token with malformed JSON', token: null, body: '{"id": "abc", "order_status": ', status: 401, reason: 'unauthorized' },
  { name: 'a JSON body sent as text/plain', headers: { 'content-type': 'text/plain' }, body: '{"id":"t1","order_status":"pending"}', status: 415, reason: 'unsupported_media_type' },
  { name: 'a form body', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'id=f1&order_status=pending', status: 415, reason: 'unsupported_media_type' },
  { name: 'a body without a content type', headers: {}, body: '{"id":"n1","order_status":"pending"}', status: 415, reason: 'unsupported_media_type' },
  { name: 'JSON in another charset', headers: { 'content-type': 'application/json; charset=iso-8859-1' }, body: '{"id":"c1","order_status":"pending"}', status: 415, reason: 'unsupported_media_type' },
  { name: 'a gzip-encoded body', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: Buffer.from([0x1f, 0x8b, 8, 0]), status: 415, reason: 'unsupported_media_type' },
  { name: 'a body over maxBodyBytes by its content-length', body: big(MAX_BODY), status: 413, reason: 'too_large' },
  { name: 'a body over maxBodyBytes sent chunked', body: big(MAX_BODY), chunked: true, status: 413, reason: 'too_large' },
  { name: 'a 2 MB body with the right token', body: TWO_MB, status: 413, reason: 'too_large' },
  { name: 'malformed JSON', body: '{"id": "abc", "order_status": ', status: 400, reason: 'invalid_body', fields: ['(body)'] },
  { name: 'malformed JSON sent chunked', body: '{"id": "abc",', chunked: true, status: 400, reason: 'invalid_body', fields: ['(body)'] },
  { name: 'an empty JSON body', body: '', status: 400, reason: 'invalid_body', fields: ['(body)'] },
  { name: 'a JSON array', body: '[{"id":"a1","order_status":"pending"}]', status: 400, reason: 'invalid_body', fields: ['(body)'] },
  { name: 'a field of the wrong type', headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{"id":42,"order_status":"pending"}', status: 400, reason: 'invalid_body', fields: ['id'] },
  { name: 'nesting 40 levels deep', body: `{"id":"d1","order_status":"pending","x":${'['.repeat(40)}${']'.repeat(40)}}`, status: 400, reason: 'invalid_body' },
];

/** Each adapter's answers to BAD_REQUESTS, compared once both ran. */
const answers: Record<TestAdapter, Map<string, RawAnswer>> = { express: new Map(), fastify: new Map() };

describe.each(TEST_ADAPTERS)('CaryRx webhooks on %s', (adapter) => {
  let ctx: CaryRxTestContext;
  const em = () => ctx.t.dataSource.manager;
  const inboxCount = () => em().count(WebhookInboxEvent);
  const rejections = () => ctx.t.events.filter((e) => e.name === FulfilmentEvents.WebhookRejected).map((e) => e.payload as WebhookRejectedEvent);
  /** The content type host code (a global interceptor) saw on each webhook it got to see. */
  const seenByHost: unknown[] = [];
  const witness: NestInterceptor = {
    intercept: (context, next) => {
      seenByHost.push(context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers['content-type']);
      return next.handle();
    },
  };

  beforeAll(async () => {
    // A host with a strict global pipe: vendor fields must still be tolerated on our routes.
    const extra: TestAppExtras = {
      adapter,
      providers: [
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }) },
        { provide: APP_INTERCEPTOR, useValue: witness },
      ],
    };
    ctx = await startCaryRx({ webhooks: { maxBodyBytes: MAX_BODY } }, extra);
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it(`runs on ${adapter}`, () => {
    expect(ctx.t.app.getHttpAdapter().getType()).toBe(adapter);
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
    // Delivery details are kept (packagingMethod, samedayLocationX/Y); names and addresses are not.
    expect(inbox.payload).not.toMatch(/address|street|city|zip/);
    expect(stored).toMatchObject({ serviceLevel: 'sameday_delivery', packagingMethod: 'usps_firstclass', samedayLocationX: 'string', samedayLocationY: 'string' });
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

  it('names each bad field once, by its path from the body’s root, with the first rule it broke', async () => {
    const before = await inboxCount();
    const order = await postWebhook(webhookUrl(ctx.t, 'orders'), {
      id: 42,
      prescriptions: [{ id: 'rx1', is_refill: false }, { id: '', is_refill: 'no' }],
      patient: { id: 'p1', created_at: 'yesterday' },
    });
    expect(order.status).toBe(400);
    expect(order.body).toEqual({ statusCode: 400, message: expect.stringContaining('prescriptions[1].id must not be empty'), fields: expect.any(Array) });
    const expected = [
      { path: 'id', message: 'must be a string' },
      { path: 'order_status', message: 'is required' },
      { path: 'prescriptions[1].id', message: 'must not be empty' },
      { path: 'prescriptions[1].is_refill', message: 'must be a boolean' },
      { path: 'patient.created_at', message: 'must be an ISO 8601 timestamp' },
    ];
    // Each once (no other entry), whatever the order.
    expect(order.body.fields).toHaveLength(expected.length);
    expect(order.body.fields).toEqual(expect.arrayContaining(expected));
    const rx = await postWebhook(webhookUrl(ctx.t, 'prescriptions'), { id: 'rx2', status: 'pending', prescriber: { prescriber_name: 7 } });
    expect(rx.body.fields).toEqual([{ path: 'prescriber.prescriber_name', message: 'must be a string' }]);
    expect(await inboxCount()).toBe(before);
  });

  it('enforces the type the document shows for every field it prints, kept or not', async () => {
    const before = await inboxCount();
    // CARYRX_DOC_PRESCRIPTION is the document's get-prescription example; its test payload and the
    // order payload print these fields with these types.
    const wrong: Array<['orders' | 'prescriptions', Record<string, unknown>, string, string]> = [
      ['prescriptions', { ...CARYRX_DOC_PRESCRIPTION, qty_written: '10' }, 'qty_written', 'must be a number'],
      ['prescriptions', { ...CARYRX_DOC_PRESCRIPTION, medication_name: 10 }, 'medication_name', 'must be a string'],
      ['prescriptions', { ...CARYRX_DOC_PRESCRIPTION, auto_refill: 'false' }, 'auto_refill', 'must be a boolean'],
      ['prescriptions', { ...CARYRX_DOC_PRESCRIPTION, rx_number: true }, 'rx_number', 'must be a number or a string'],
      ['orders', { id: 'ty1', order_status: 'pending', address_to_zip: 27511 }, 'address_to_zip', 'must be a string'],
      ['orders', { id: 'ty2', order_status: 'pending', central_fill: 'no' }, 'central_fill', 'must be a boolean'],
      ['orders', { id: 'ty3', order_status: 'pending', sameday_location_x: 40.7 }, 'sameday_location_x', 'must be a string'],
    ];
    for (const [topic, body, path, message] of wrong) {
      const res = await postWebhook(webhookUrl(ctx.t, topic), body);
      expect({ path, status: res.status, fields: res.body.fields }).toEqual({ path, status: 400, fields: [{ path, message }] });
    }
    expect(await inboxCount()).toBe(before);
    // The document's own examples pass, fields printed only as null included.
    expect((await postWebhook(webhookUrl(ctx.t, 'prescriptions'), CARYRX_DOC_PRESCRIPTION)).status).toBe(200);
  });

  it('tolerates unknown vendor fields despite the host’s strict global pipe', async () => {
    const res = await postWebhook(webhookUrl(ctx.t, 'orders'), { id: 'vendor1', order_status: 'pending', brand_new_field: { x: 1 }, flags: null });
    expect(res).toMatchObject({ status: 200, body: { outcome: 'unmatched' } });
  });

  it('answers 413 above webhooks.maxBodyBytes, by content-length and by actual size', async () => {
    const before = await inboxCount();
    expect((await postRaw(webhookUrl(ctx.t, 'orders'), { body: big(MAX_BODY) })).status).toBe(413);
    // Chunked: no content-length, the bytes received are counted.
    expect((await postRaw(webhookUrl(ctx.t, 'orders'), { body: big(MAX_BODY), chunked: true })).status).toBe(413);
    expect(await inboxCount()).toBe(before);
    expect(rejections().at(-1)).toMatchObject({ reason: 'too_large' });
  });

  it('accepts application/*+json and an explicit UTF-8 charset, as application/json; host code sees the headers as sent', async () => {
    const types = ['application/json; charset=UTF-8', 'application/vnd.caryrx.event+json', 'Application/JSON'];
    for (const type of types) {
      const res = await postRaw(webhookUrl(ctx.t, 'orders'), { headers: { 'content-type': type }, body: JSON.stringify({ id: 'type1', order_status: 'pending' }) });
      expect(res).toMatchObject({ status: 200, body: { received: true } });
    }
    expect(seenByHost.slice(-types.length)).toEqual(types);
  });

  it.each(BAD_REQUESTS)('answers $name with $status as JSON, stores nothing, announces $reason', async (c) => {
    const before = await inboxCount();
    const announced = rejections().length;
    const res = await postRaw(webhookUrl(ctx.t, 'orders', c.token === undefined ? SECRET : c.token), c);
    expect(res.status).toBe(c.status);
    expect(res.contentType).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ statusCode: c.status, message: expect.any(String) });
    if (c.fields) expect(res.body.fields.map((f: { path: string }) => f.path)).toEqual(c.fields);
    expect(JSON.stringify(res.body)).not.toContain(SECRET);
    expect(await inboxCount()).toBe(before);
    expect(rejections().slice(announced)).toEqual([expect.objectContaining({ provider: 'caryrx', topic: 'caryrx.order', reason: c.reason })]);
    answers[adapter].set(c.name, res);
  });

  it('announces a client that goes away halfway through its body as invalid_body, stores nothing, and keeps serving', async () => {
    const before = await inboxCount();
    const announced = rejections().length;
    const { port, pathname, search } = new URL(webhookUrl(ctx.t, 'orders'));
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`POST ${pathname}${search} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id":"gone1",`);
    socket.destroy();
    for (let i = 0; i < 200 && rejections().length === announced; i++) await new Promise((r) => setTimeout(r, 10));
    expect(rejections().slice(announced)).toEqual([expect.objectContaining({ reason: 'invalid_body', fields: ['(body)'] })]);
    expect(await inboxCount()).toBe(before);
    expect((await postWebhook(webhookUrl(ctx.t, 'orders'), { id: 'after1', order_status: 'pending' })).status).toBe(200);
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

  it('answers a plain 500 (the provider delivers again) when the event cannot be stored at all', async () => {
    const refused = jest.spyOn(StoreDatabase.prototype, 'transaction').mockRejectedValue(new Error('database refused'));
    const refusedRead = jest.spyOn(StoreDatabase.prototype, 'autocommit').mockRejectedValue(new Error('database refused'));
    const res = await postRaw(webhookUrl(ctx.t, 'orders'), { body: JSON.stringify({ id: 'store0001', order_status: 'pending' }) });
    refused.mockRestore();
    refusedRead.mockRestore();
    expect(res).toEqual({ status: 500, contentType: expect.stringMatching(/^application\/json/), body: { statusCode: 500, message: 'webhook could not be stored' } });
  });

  it('stores the event as failed and still answers 2xx when applying throws', async () => {
    await seedCaryRxOrder('fail000001');
    const spy = jest.spyOn(ctx.t.app.get(OrderStore) as unknown as { applyEffect(): Promise<never> }, 'applyEffect').mockRejectedValueOnce(new Error('boom'));
    const res = await postWebhook(webhookUrl(ctx.t, 'orders'), { id: 'fail000001', order_status: 'filled', updated_at: '2026-01-01T00:00:00.000Z' });
    spy.mockRestore();
    expect(res).toMatchObject({ status: 200, body: { outcome: 'failed' } });
    const row = await em().findOneByOrFail(WebhookInboxEvent, { entityId: 'fail000001' });
    expect(row.outcome).toBe('failed');
    expect(row.error).toContain('boom');
  });
});

describe('CaryRx webhooks on express and Fastify', () => {
  it('answer every bad request with the same status, content type and body', () => {
    // Filled by the suites above; a run of this file alone with a -t filter leaves them empty.
    expect([...answers.express.keys()]).toEqual(BAD_REQUESTS.map((c) => c.name));
    expect(Object.fromEntries(answers.fastify)).toEqual(Object.fromEntries(answers.express));
  });
});
