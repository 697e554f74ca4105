import { describe, it, expect, beforeAll, afterAll, beforeEach } from '@jest/globals';
import { IsNull, LessThan, Not } from 'typeorm';
import { FulfilmentOptionsError, FulfilmentOrder, FulfilmentOutboxEvent, JobLease, OrderStatusHistory, RetentionService, WebhookInboxEvent, type FulfilmentModuleOptions } from 'nestjs-fulfilment';
import { CaryRxSimulator, createWebhookTestClient } from 'nestjs-fulfilment/testing';
import { OrderStore } from '../../libs/fulfilment/src/orders/order-store.js';
import { validateFulfilmentOptions } from '../../libs/fulfilment/src/fulfilment.options.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { seedOrder } from '../support/seed-orders.js';
import { waitFor } from '../sync/support.js';

const SECRET = 'retention-test-secret-0001';
const DAY = 86_400_000;
const daysAgo = (days: number) => new Date(Date.now() - days * DAY);

describe('retention: pruning the inbox and old history, one replica at a time', () => {
  let sim: CaryRxSimulator;
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  const em = () => a.dataSource.manager;

  const options = (retention: FulfilmentModuleOptions['retention']): FulfilmentModuleOptions => ({
    caryrx: { baseUrl: sim.url, apiKey: sim.apiKey, environment: 'development' },
    webhooks: { secret: SECRET, retentionDays: 30 },
    sync: { enabled: false },
    retention: { enabled: false, pauseMs: 0, ...retention },
  });

  beforeAll(async () => {
    sim = new CaryRxSimulator({ apiKey: 'test-123', stepMs: 0 });
    await sim.start();
    db = await createTestDatabase();
    // Replica A prunes old history too, in small batches; replica B keeps history (the default).
    a = await createTestApp(options({ batchSize: 7, terminalOrderHistoryDays: 90 }), { db });
    b = await createTestApp(options({ batchSize: 7 }), { db });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sim?.stop();
    await db?.cleanup();
  });
  beforeEach(async () => {
    await em().clear(WebhookInboxEvent);
    await em().clear(JobLease);
  });

  const inboxRow = (key: string, receivedAt: Date): WebhookInboxEvent => ({
    dedupKey: key, provider: 'caryrx', topic: 'caryrx.order', entityId: key, providerStatus: 'shipped', providerTimestamp: receivedAt,
    payload: '{}', outcome: 'applied', error: null, receivedAt, processedAt: receivedAt,
  });
  const seedInbox = async (prefix: string, count: number, receivedAt: Date) => {
    const rows = Array.from({ length: count }, (_, i) => inboxRow(`${prefix}-${i}`, new Date(receivedAt.getTime() - i * 1000)));
    for (let i = 0; i < rows.length; i += 50) await em().insert(WebhookInboxEvent, rows.slice(i, i + 50));
  };
  /** An order with three history rows, last changed `days` ago. */
  const orderWithHistory = async (name: string, status: FulfilmentOrder['status'], days: number) => {
    const at = daysAgo(days);
    const order = await seedOrder(a.dataSource, { provider: 'caryrx', providerOrderId: name, status, createdAt: at, updatedAt: at });
    const steps: Array<[FulfilmentOrder['status'] | null, FulfilmentOrder['status']]> = [[null, 'created'], ['created', 'accepted'], ['accepted', status]];
    await em().insert(
      OrderStatusHistory,
      steps.map(([from, to], i) => ({ id: `${name}-h${i}`, orderId: order.id, fromStatus: from, toStatus: to, fromProviderStatus: null, toProviderStatus: null, source: 'webhook' as const, providerTimestamp: null, createdAt: new Date(at.getTime() - (2 - i) * 60_000) })),
    );
    return order;
  };
  const historyCount = (orderId: string) => em().countBy(OrderStatusHistory, { orderId });
  const age = (days: number) => em().update(WebhookInboxEvent, { dedupKey: Not(IsNull()) }, { receivedAt: daysAgo(days) });

  it('deletes inbox rows past webhooks.retentionDays and keeps the ones inside it; history only of orders terminal past terminalOrderHistoryDays', async () => {
    await seedInbox('old', 25, daysAgo(31));
    await seedInbox('recent', 10, daysAgo(29));
    const oldDelivered = await orderWithHistory('ret-old-delivered', 'delivered', 100);
    const recentDelivered = await orderWithHistory('ret-recent-delivered', 'delivered', 80);
    const oldOpen = await orderWithHistory('ret-old-open', 'in_transit', 200);

    // B keeps history (no terminalOrderHistoryDays): only the inbox.
    const byB = await b.app.get(RetentionService).runOnce();
    expect(byB).toMatchObject({ ran: true, pruned: { inbox: 25, terminalHistory: 0 } });
    expect(await historyCount(oldDelivered.id)).toBe(3);

    await seedInbox('old-again', 25, daysAgo(45));
    const byA = await a.app.get(RetentionService).runOnce();
    expect(byA).toMatchObject({ ran: true, pruned: { inbox: 25, terminalHistory: 3 } });
    expect((await em().find(WebhookInboxEvent)).map((r) => r.dedupKey).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `recent-${i}`).sort());
    expect(await em().countBy(WebhookInboxEvent, { receivedAt: LessThan(daysAgo(30)) })).toBe(0);
    expect([await historyCount(oldDelivered.id), await historyCount(recentDelivered.id), await historyCount(oldOpen.id)]).toEqual([0, 3, 3]);
    // The orders themselves are kept.
    expect(await em().countBy(FulfilmentOrder, { id: oldDelivered.id })).toBe(1);

    // Nothing left to prune: a run deletes nothing.
    expect((await a.app.get(RetentionService).runOnce()).pruned).toEqual({ inbox: 0, terminalHistory: 0, deliveredEvents: 0 });
  });

  it('prunes delivered events past retention.deliveredEventsDays from the outbox; undelivered ones are kept however old', async () => {
    const event = (id: string, createdDaysAgo: number, deliveredDaysAgo: number | null): FulfilmentOutboxEvent => ({
      id, name: 'fulfilment.order.status_changed', payload: '{}', createdAt: daysAgo(createdDaysAgo), deliveredAt: deliveredDaysAgo === null ? null : daysAgo(deliveredDaysAgo),
      leaseOwner: null, leaseUntil: null, failures: 0, lastError: null,
    });
    await em().insert(FulfilmentOutboxEvent, [event('ret-ev-old', 9, 8), event('ret-ev-old-2', 20, 19), event('ret-ev-recent', 6, 6), event('ret-ev-stuck', 40, null)]);
    const report = await b.app.get(RetentionService).runOnce();
    expect(report.pruned.deliveredEvents).toBe(2);
    const left = (await em().find(FulfilmentOutboxEvent)).map((r) => r.id).filter((id) => id.startsWith('ret-ev-'));
    expect(left.sort()).toEqual(['ret-ev-recent', 'ret-ev-stuck']);
  });

  it('a duplicate inside the window is still acknowledged without being applied', async () => {
    const order = await seedOrder(a.dataSource, { provider: 'caryrx', providerOrderId: 'ret-dup', providerStatus: 'pending' });
    const hooks = createWebhookTestClient({ baseUrl: a.url, secret: SECRET });
    const event = { id: 'ret-dup', order_status: 'shipped', updated_at: daysAgo(29).toISOString() };
    expect((await hooks.caryrxOrderEvent(event)).body).toMatchObject({ duplicate: false, outcome: 'applied' });
    await age(29);
    await a.app.get(RetentionService).runOnce();

    const again = await hooks.caryrxOrderEvent(event);
    expect(again).toMatchObject({ status: 200, body: { received: true, duplicate: true, outcome: null } });
    expect(await historyCount(order.id)).toBe(1);
    expect(await em().countBy(WebhookInboxEvent, { entityId: 'ret-dup' })).toBe(1);
  });

  it('after the window, a redelivered older event is stored again but changes nothing', async () => {
    const order = await seedOrder(a.dataSource, { provider: 'caryrx', providerOrderId: 'ret-late', providerStatus: 'pending' });
    const hooks = createWebhookTestClient({ baseUrl: a.url, secret: SECRET });
    const shipped = { id: 'ret-late', order_status: 'shipped', updated_at: daysAgo(40).toISOString() };
    const delivered = { id: 'ret-late', order_status: 'delivered', updated_at: daysAgo(39).toISOString() };
    expect((await hooks.caryrxOrderEvent(shipped)).body).toMatchObject({ outcome: 'applied' });
    expect((await hooks.caryrxOrderEvent(delivered)).body).toMatchObject({ outcome: 'applied' });
    const before = await em().findOneByOrFail(FulfilmentOrder, { id: order.id });
    await age(31);
    expect((await a.app.get(RetentionService).runOnce()).pruned.inbox).toBe(2);

    // The dedup keys are gone, so these are new events to the inbox: the state machine refuses them.
    expect((await hooks.caryrxOrderEvent(shipped)).body).toMatchObject({ duplicate: false, outcome: 'stale' });
    expect((await hooks.caryrxOrderEvent({ id: 'ret-late', order_status: 'shipped' })).body).toMatchObject({ duplicate: false, outcome: 'stale' });
    expect((await hooks.caryrxOrderEvent(delivered)).body).toMatchObject({ duplicate: false, outcome: 'unchanged' });
    const after = await em().findOneByOrFail(FulfilmentOrder, { id: order.id });
    expect(after).toEqual(before);
    expect(await historyCount(order.id)).toBe(2);
  });

  it('two replicas never prune at the same time; a lease whose holder died is taken over once it runs out', async () => {
    // Every batch of either replica, recorded as it starts and ends.
    const timeline: string[] = [];
    for (const [name, app] of [['A', a], ['B', b]] as const) {
      const store = app.app.get(OrderStore);
      const prune = store.pruneBatch.bind(store);
      store.pruneBatch = async (...args) => {
        timeline.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 5)); // a batch that takes a while, so the other replica gets to try
        try {
          return await prune(...args);
        } finally {
          timeline.push(`${name}-`);
        }
      };
    }
    await seedInbox('race', 140, daysAgo(60));
    const [ra, rb] = await Promise.all([a.app.get(RetentionService).runOnce(), b.app.get(RetentionService).runOnce()]);
    // One replica claimed the lease and pruned everything; the other found it held (or nothing left).
    expect(ra.pruned.inbox + rb.pruned.inbox).toBe(140);
    expect(ra.ran && rb.ran && ra.pruned.inbox > 0 && rb.pruned.inbox > 0).toBe(false);
    // No batch of one replica started while a batch of the other was in progress.
    const interleaved = timeline.some((step, i) => step.endsWith('+') && timeline[i + 1] !== `${step[0]}-`);
    expect(interleaved).toBe(false);
    expect(timeline.length).toBeGreaterThanOrEqual(2 * 21);

    // A replica that claimed the lease and died: the others wait for it to run out, then take over.
    await seedInbox('orphan', 5, daysAgo(60));
    await em().upsert(JobLease, { name: 'retention', owner: 'dead-replica', leaseUntil: new Date(Date.now() + 60_000) }, ['name']);
    expect(await b.app.get(RetentionService).runOnce()).toMatchObject({ ran: false, pruned: { inbox: 0 } });
    expect(await em().count(WebhookInboxEvent)).toBe(5);
    await em().update(JobLease, { name: 'retention' }, { leaseUntil: new Date(Date.now() - 1000) });
    expect(await b.app.get(RetentionService).runOnce()).toMatchObject({ ran: true, pruned: { inbox: 5 } });
    await waitFor(async () => (await em().findOneByOrFail(JobLease, { name: 'retention' })).leaseUntil.getTime() < Date.now());
  });
});

describe('retention options', () => {
  const base = { sandbox: true } as const;

  it('defaults: inbox kept 35 days, history kept, hourly runs of 500-row batches', () => {
    const resolved = validateFulfilmentOptions(base);
    expect(resolved.webhooks.retentionDays).toBe(35);
    expect(resolved.retention).toEqual({ enabled: true, intervalMs: 3_600_000, batchSize: 500, pauseMs: 20, deliveredEventsDays: 7, terminalOrderHistoryDays: null });
  });

  it('names every bad retention option by its path', () => {
    let error: unknown;
    try {
      validateFulfilmentOptions({
        ...base,
        webhooks: { secret: 'retention-test-secret-0001', retentionDays: 0 },
        retention: { enabled: 'yes', intervalMs: 10, batchSize: 0, pauseMs: -1, terminalOrderHistoryDays: 1.5, keepForever: true },
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FulfilmentOptionsError);
    expect((error as FulfilmentOptionsError).problems).toEqual([
      'webhooks.retentionDays must be an integer from 1 to 36500',
      'retention.keepForever is not a known option',
      'retention.enabled must be a boolean',
      'retention.intervalMs must be an integer ≥ 1000',
      'retention.batchSize must be an integer from 1 to 10000',
      'retention.pauseMs must be an integer from 0 to 30000',
      'retention.terminalOrderHistoryDays must be an integer from 1 to 36500',
    ]);
  });
});
