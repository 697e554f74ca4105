import { describe, it, expect, beforeAll, afterAll, beforeEach, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { DataSource } from 'typeorm';
import { FulfilmentOrder } from '../../libs/fulfilment/src/orders/entities/fulfilment-order.entity.js';
import { OrderStatusHistory } from '../../libs/fulfilment/src/orders/entities/order-status-history.entity.js';
import { OrderStore } from '../../libs/fulfilment/src/orders/order-store.js';
import { FulfilmentEventBus } from '../../libs/fulfilment/src/orders/fulfilment-event-bus.js';
import { validateFulfilmentOptions, type SyncOptions } from '../../libs/fulfilment/src/fulfilment.options.js';
import { ProviderRateLimitError, ProviderUnavailableError } from '../../libs/fulfilment/src/http/provider-errors.js';
import { StatusSyncService } from '../../libs/fulfilment/src/sync/status-sync.service.js';
import { FakeReader, makeAllDue, openDataSource, seedOrders, waitFor } from './support.js';

/**
 * The sync engine with in-memory providers (FakeReader): leasing, the tick loop, the schedule,
 * pauses. The real providers and simulators are exercised in status-sync.e2e.spec.ts.
 */
describe('StatusSyncService (engine, fake providers)', () => {
  let db: Awaited<ReturnType<typeof openDataSource>>;
  let dataSource: DataSource;
  let events: EventEmitter2;
  const emitted: Array<{ orderId: string; source: string; status: string }> = [];
  const services: StatusSyncService[] = [];

  function makeService(readers: FakeReader[], sync: SyncOptions = {}, scheduler?: SchedulerRegistry): StatusSyncService {
    const options = validateFulfilmentOptions({ sandbox: true, sync: { enabled: false, intervalMs: 1000, ...sync } });
    const store = new OrderStore(dataSource, { syncIntervalMs: options.sync.intervalMs }, FulfilmentEventBus.over(events));
    const service = new StatusSyncService(store, options, readers, scheduler);
    services.push(service);
    return service;
  }

  beforeAll(async () => {
    Logger.overrideLogger(['error', 'warn']);
    db = await openDataSource();
    dataSource = db.dataSource;
    events = new EventEmitter2();
    events.on('fulfilment.order.status_changed', (e: { orderId: string; source: string; status: string }) => emitted.push(e));
  });
  afterAll(async () => {
    for (const s of services) await s.onModuleDestroy();
    await db?.cleanup();
  });
  beforeEach(async () => {
    await dataSource.createQueryBuilder().delete().from(OrderStatusHistory).execute();
    await dataSource.createQueryBuilder().delete().from(FulfilmentOrder).execute();
    emitted.length = 0;
  });

  const load = (id: string) => dataSource.manager.findOneByOrFail(FulfilmentOrder, { id });

  it('claims only due, open orders with a provider id whose lease is free or expired', async () => {
    const past = new Date(Date.now() - 60_000);
    const [due, expired, future, terminal, noId, leased] = await seedOrders(dataSource, [
      { provider: 'scriptdrop', providerOrderId: 'sd-due', providerStatus: 'new' },
      { provider: 'scriptdrop', providerOrderId: 'sd-expired', providerStatus: 'new', syncLeaseOwner: 'dead-replica', syncLeaseUntil: past },
      { provider: 'scriptdrop', providerOrderId: 'sd-future', providerStatus: 'new', nextSyncAt: new Date(Date.now() + 3_600_000) },
      { provider: 'scriptdrop', providerOrderId: 'sd-done', status: 'delivered', providerStatus: 'delivered', nextSyncAt: null },
      { provider: 'scriptdrop', providerOrderId: null, status: 'unknown' },
      { provider: 'scriptdrop', providerOrderId: 'sd-leased', providerStatus: 'new', syncLeaseOwner: 'live-replica', syncLeaseUntil: new Date(Date.now() + 3_600_000) },
    ]);
    const reader = new FakeReader('scriptdrop');
    for (const id of ['sd-due', 'sd-expired', 'sd-future', 'sd-done', 'sd-leased']) reader.set(id, 'new');
    const report = await makeService([reader]).runOnce();

    expect(reader.reads.flat().sort()).toEqual(['sd-due', 'sd-expired']);
    expect(report).toMatchObject({ claimed: 2, fetched: 2, changed: 0, failed: 0, httpCalls: { scriptdrop: 1, caryrx: 0 } });
    for (const o of [due, expired]) {
      const row = await load(o.id);
      expect(row).toMatchObject({ syncLeaseOwner: null, syncLeaseUntil: null, syncFailures: 0 });
      expect(row.lastSyncedAt).not.toBeNull();
      expect(row.nextSyncAt!.getTime()).toBeGreaterThan(Date.now());
    }
    expect((await load(leased.id)).syncLeaseOwner).toBe('live-replica');
    expect((await load(terminal.id)).nextSyncAt).toBeNull();
    expect((await load(future.id)).lastSyncedAt).toBeNull();
    expect((await load(noId.id)).lastSyncedAt).toBeNull();
  });

  it('moves changed orders through the transition path (history + event, source sync), never backwards', async () => {
    const [moving, stale, done] = await seedOrders(dataSource, [
      { provider: 'scriptdrop', providerOrderId: 'sd-1', providerStatus: 'new' },
      { provider: 'scriptdrop', providerOrderId: 'sd-2', status: 'in_transit', providerStatus: 'picked_up' },
      { provider: 'scriptdrop', providerOrderId: 'sd-3', providerStatus: 'picked_up', status: 'in_transit' },
    ]);
    const reader = new FakeReader('scriptdrop');
    reader.set('sd-1', 'picked_up', { trackingUrl: 'https://track.example.test/1' });
    reader.set('sd-2', 'new'); // older than what we hold
    reader.set('sd-3', 'delivered');
    const report = await makeService([reader]).runOnce();
    expect(report).toMatchObject({ claimed: 3, fetched: 3, changed: 2, failed: 0 });

    expect(await load(moving.id)).toMatchObject({ status: 'in_transit', providerStatus: 'picked_up', trackingUrl: 'https://track.example.test/1', syncLeaseOwner: null });
    expect(await load(stale.id)).toMatchObject({ status: 'in_transit', providerStatus: 'picked_up', syncLeaseOwner: null });
    const finished = await load(done.id);
    expect(finished).toMatchObject({ status: 'delivered', nextSyncAt: null, syncLeaseOwner: null });
    const history = await dataSource.manager.find(OrderStatusHistory, { where: { source: 'sync' } });
    expect(history.map((h) => h.orderId).sort()).toEqual([moving.id, done.id].sort());
    expect(emitted.map((e) => [e.orderId, e.status, e.source]).sort()).toEqual(
      [
        [moving.id, 'in_transit', 'sync'],
        [done.id, 'delivered', 'sync'],
      ].sort(),
    );

    // Terminal orders are never read again, however often the sync runs.
    await makeAllDue(dataSource);
    reader.reads.length = 0;
    await makeService([reader]).runOnce();
    expect(reader.readCount('sd-3')).toBe(0);
    expect(reader.readCount('sd-1')).toBe(1);
  });

  it('backs a failing order off (sync_failures, later next_sync_at, reason kept) and recovers', async () => {
    const [missing, batchFail] = await seedOrders(dataSource, [
      { provider: 'scriptdrop', providerOrderId: 'sd-missing', providerStatus: 'new' },
      { provider: 'caryrx', providerOrderId: 'cx-1', providerStatus: 'pending' },
    ]);
    const sd = new FakeReader('scriptdrop');
    const cx = new FakeReader('caryrx');
    cx.failWith = new ProviderUnavailableError('CaryRx GET /v1/orders/:id failed: 503', {
      provider: 'caryrx', method: 'GET', path: '/v1/orders/cx-1', status: 503, attempts: 3, retryable: true,
    });
    const service = makeService([sd, cx], { intervalMs: 1000 });
    const started = Date.now();
    const report = await service.runOnce();
    expect(report).toMatchObject({ claimed: 2, fetched: 0, failed: 2 });
    for (const o of [missing, batchFail]) {
      const row = await load(o.id);
      expect(row).toMatchObject({ syncFailures: 1, syncLeaseOwner: null });
      expect(row.lastError).toMatch(/^sync: /);
      // Backoff: two intervals after one failure (a changed order waits one).
      expect(row.nextSyncAt!.getTime()).toBeGreaterThanOrEqual(started + 2 * 1000 - 50);
    }
    // Not due yet: a tick now reads nothing.
    expect((await service.runOnce()).claimed).toBe(0);

    cx.failWith = undefined;
    cx.set('cx-1', 'ready_to_fill');
    sd.set('sd-missing', 'new');
    await makeAllDue(dataSource);
    const again = await service.runOnce();
    expect(again).toMatchObject({ claimed: 2, fetched: 2, changed: 1, failed: 0 });
    expect(await load(batchFail.id)).toMatchObject({ syncFailures: 0, lastError: null, providerStatus: 'ready_to_fill' });
    expect(await load(missing.id)).toMatchObject({ syncFailures: 0, lastError: null });
  });

  it('pauses a provider on 429 for its Retry-After: no calls to it, its orders released, others continue', async () => {
    const [sdOrder, cxOrder] = await seedOrders(dataSource, [
      { provider: 'scriptdrop', providerOrderId: 'sd-rl', providerStatus: 'new' },
      { provider: 'caryrx', providerOrderId: 'cx-rl', providerStatus: 'pending' },
    ]);
    const sd = new FakeReader('scriptdrop');
    const cx = new FakeReader('caryrx');
    sd.failWith = new ProviderRateLimitError('ScriptDrop GET /api/v1/orders failed: 429', {
      provider: 'scriptdrop', method: 'GET', path: '/api/v1/orders', status: 429, attempts: 3, retryable: true, retryAfterMs: 60_000,
    });
    cx.set('cx-rl', 'pending');
    const service = makeService([sd, cx]);
    const report = await service.runOnce();
    expect(report.pausedProviders.map((p) => p.provider)).toEqual(['scriptdrop']);
    expect(report.pausedProviders[0].until.getTime()).toBeGreaterThan(Date.now() + 50_000);
    expect(report).toMatchObject({ released: 1, failed: 0, httpCalls: { scriptdrop: 1, caryrx: 1 } });
    const released = await load(sdOrder.id);
    expect(released).toMatchObject({ syncLeaseOwner: null, syncFailures: 0 });
    expect(released.nextSyncAt!.getTime()).toBeLessThanOrEqual(Date.now()); // still due: read once the pause ends

    sd.failWith = undefined;
    sd.reads.length = 0;
    await makeAllDue(dataSource);
    const paused = await service.runOnce();
    expect(sd.reads).toHaveLength(0);
    expect(paused.httpCalls.scriptdrop).toBe(0);
    expect(paused.pausedProviders.map((p) => p.provider)).toEqual(['scriptdrop']);
    expect(cx.readCount('cx-rl')).toBe(2);
    expect((await load(cxOrder.id)).syncLeaseOwner).toBeNull();
  });

  it('never runs two ticks at once: a second runOnce waits for the first', async () => {
    await seedOrders(dataSource, [{ provider: 'scriptdrop', providerOrderId: 'sd-slow', providerStatus: 'new' }]);
    const reader = new FakeReader('scriptdrop');
    reader.set('sd-slow', 'picked_up');
    const service = makeService([reader]);
    const release = reader.block();
    const reading = reader.nextRead();
    const first = service.runOnce();
    await reading;
    let secondDone = false;
    const second = service.runOnce().then((r) => {
      secondDone = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(secondDone).toBe(false);
    expect(reader.reads).toHaveLength(1);
    release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.changed).toBe(1);
    expect(b.claimed).toBe(0); // the first already rescheduled it
    expect(b.startedAt.getTime()).toBeGreaterThanOrEqual(a.startedAt.getTime() + a.durationMs);
  });

  it('scheduled ticks: skipped while one runs, a tick that throws is logged and the next one runs', async () => {
    const [order] = await seedOrders(dataSource, [{ provider: 'scriptdrop', providerOrderId: 'sd-sched', providerStatus: 'new' }]);
    const reader = new FakeReader('scriptdrop');
    reader.set('sd-sched', 'picked_up');
    const scheduler = new SchedulerRegistry();
    const service = makeService([reader], { enabled: true, intervalMs: 1000 }, scheduler);
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    // The first tick's claim fails (the database is unreachable for one query).
    const spy = jest.spyOn(dataSource, 'createQueryRunner').mockImplementationOnce(() => {
      throw new Error('database unreachable');
    });
    try {
      service.onApplicationBootstrap();
      expect(scheduler.getIntervals()).toEqual(['fulfilment.status-sync']);
      await waitFor(() => errors.mock.calls.some((c) => String(c[0]).includes('database unreachable')));
      await waitFor(async () => (await load(order.id)).status === 'in_transit');
    } finally {
      spy.mockRestore();
      errors.mockRestore();
    }
    // A tick blocked on its provider: the interval fires meanwhile but starts no second tick.
    await makeAllDue(dataSource);
    reader.set('sd-sched', 'delivered');
    const release = reader.block();
    const before = reader.reads.length;
    await reader.nextRead();
    await new Promise((r) => setTimeout(r, 2_500));
    expect(reader.reads.length).toBe(before + 1);
    release();
    await waitFor(async () => (await load(order.id)).status === 'delivered');
    await service.onModuleDestroy();
    expect(scheduler.getIntervals()).toEqual([]);
  });

  it('without ScheduleModule: one clear warning, nothing scheduled; runOnce still works', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      makeService([new FakeReader('scriptdrop')], { enabled: true }).onApplicationBootstrap();
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0][0])).toContain('ScheduleModule.forRoot()');
    } finally {
      warn.mockRestore();
    }
  });

  it('leases: a replica does not read orders another holds; after the lease expires it takes them over', async () => {
    const orders = await seedOrders(
      dataSource,
      Array.from({ length: 30 }, (_, i) => ({ provider: 'scriptdrop' as const, providerOrderId: `sd-l${i}`, providerStatus: 'new' })),
    );
    const readerA = new FakeReader('scriptdrop');
    const readerB = new FakeReader('scriptdrop');
    for (const o of orders) {
      readerA.set(o.providerOrderId!, 'picked_up');
      readerB.set(o.providerOrderId!, 'picked_up');
    }
    const a = makeService([readerA], { batchSize: 10, leaseMs: 1000 });
    const b = makeService([readerB], { batchSize: 10, leaseMs: 1000 });
    // A stalls mid-tick (as if it crashed): its first batch is read and not written back.
    const releaseA = readerA.block();
    const reading = readerA.nextRead();
    const aRun = a.runOnce();
    await reading;

    const report = await b.runOnce();
    // Whatever A holds (one batch per worker: two on PostgreSQL) B neither reads nor claims.
    const heldByA = readerA.reads.flat();
    expect(heldByA.length).toBeGreaterThanOrEqual(10);
    expect(report.claimed).toBe(30 - heldByA.length);
    expect(readerB.reads.flat().filter((id) => heldByA.includes(id))).toEqual([]);

    await new Promise((r) => setTimeout(r, 1_100)); // A's leases expire
    await b.runOnce();
    expect(readerB.reads.flat().filter((id) => heldByA.includes(id)).sort()).toEqual([...heldByA].sort());
    const rows = await dataSource.manager.find(FulfilmentOrder);
    expect(rows.every((r) => r.status === 'in_transit' && r.syncLeaseOwner === null)).toBe(true);
    // A wakes up late: its writes only touch rows it still holds, so nothing is undone.
    releaseA();
    await aRun;
    const after = await dataSource.manager.find(FulfilmentOrder);
    expect(after.every((r) => r.status === 'in_transit' && r.syncLeaseOwner === null)).toBe(true);
  });
});
