import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { FulfilmentService, WebhookInboxEvent } from 'nestjs-fulfilment';
import { OrderStore } from '../../libs/fulfilment/src/orders/order-store.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { seedFailedOrderEvent, seedOrder } from './support.js';

const ORDER_TOPICS = ['caryrx.order'];

describe('OrderStore.replayInbox', () => {
  let t: TestApp;
  let store: OrderStore;

  beforeAll(async () => {
    t = await createTestApp({ sandbox: { stepMs: 0 }, sync: { enabled: false } });
    store = t.app.get(OrderStore);
  });

  afterAll(async () => {
    await t?.close();
  });

  const inboxRow = (dedupKey: string) => t.dataSource.getRepository(WebhookInboxEvent).findOneByOrFail({ dedupKey });

  it('applies a failed event\'s stored observation, records the new outcome and the operator, emits the change', async () => {
    const order = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-r1', status: 'accepted' });
    const event = await seedFailedOrderEvent(t.dataSource, 'cx-r1');
    const emitted = t.events.length;
    const result = await store.replayInbox(event.dedupKey, ORDER_TOPICS, 'alice');
    expect(result).toMatchObject({ orderId: order.id, event: { outcome: 'applied', error: null } });
    expect(await inboxRow(event.dedupKey)).toMatchObject({ outcome: 'applied', error: null });
    expect(await t.app.get(FulfilmentService).getOrder(order.id)).toMatchObject({ status: 'in_transit', trackingNumber: '1Z999' });
    expect((await t.app.get(FulfilmentService).getOrderHistory(order.id)).at(-1)).toMatchObject({ source: 'ops', actor: 'alice', toStatus: 'in_transit' });
    expect(t.events.slice(emitted)).toEqual([expect.objectContaining({ payload: expect.objectContaining({ orderId: order.id, status: 'in_transit', source: 'ops' }) })]);
  });

  it('records stale for an event older than what the order shows, and leaves the order alone', async () => {
    const order = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-r2', status: 'delivered', providerStatus: 'delivered', providerUpdatedAt: new Date() });
    const event = await seedFailedOrderEvent(t.dataSource, 'cx-r2');
    expect((await store.replayInbox(event.dedupKey, ORDER_TOPICS, 'alice')).event?.outcome).toBe('stale');
    expect((await t.app.get(FulfilmentService).getOrder(order.id)).status).toBe('delivered');
    expect(await t.app.get(FulfilmentService).getOrderHistory(order.id)).toEqual([]);
  });

  it('keeps an unmatched event unmatched while no order has its id, and applies it once one does', async () => {
    const event = await seedFailedOrderEvent(t.dataSource, 'cx-r3', 'shipped', 'unmatched');
    expect(await store.replayInbox(event.dedupKey, ORDER_TOPICS, 'alice')).toMatchObject({ event: { outcome: 'unmatched' }, orderId: undefined });
    const order = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-r3', status: 'accepted' });
    expect(await store.replayInbox(event.dedupKey, ORDER_TOPICS, 'alice')).toMatchObject({ event: { outcome: 'applied' }, orderId: order.id });
  });

  it('refuses what is not a failed or unmatched order event, writing nothing', async () => {
    await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-r4', status: 'accepted' });
    const event = await seedFailedOrderEvent(t.dataSource, 'cx-r4');
    await t.dataSource.getRepository(WebhookInboxEvent).update({ dedupKey: event.dedupKey }, { outcome: 'applied' });
    expect((await store.replayInbox(event.dedupKey, ORDER_TOPICS, 'alice')).conflict).toBe('the event is applied: only failed and unmatched events are replayed');
    await t.dataSource.getRepository(WebhookInboxEvent).update({ dedupKey: event.dedupKey }, { outcome: 'failed', topic: 'caryrx.prescription' });
    expect((await store.replayInbox(event.dedupKey, ORDER_TOPICS, 'alice')).conflict).toBe('a caryrx.prescription event cannot be replayed (only order events)');
    expect(await inboxRow(event.dedupKey)).toMatchObject({ outcome: 'failed' });
    expect(await store.replayInbox('no-such-key', ORDER_TOPICS, 'alice')).toEqual({ event: null });
  });
});
