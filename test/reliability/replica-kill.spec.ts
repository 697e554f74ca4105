import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { In } from 'typeorm';
import { FulfilmentOrder, OrderStatusHistory, StatusSyncService } from 'nestjs-fulfilment';
import { ScriptDropSimulator } from 'nestjs-fulfilment/testing';
import { SCRIPTDROP_DOC_WIRE } from '../fixtures/scriptdrop-examples.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/test-database.js';
import { makeAllDue, seedOrders } from '../sync/support.js';
import { FAKE, bootApp, captureOutput, captured, findLeaks, useLogCapture, waitFor, type ReliabilityApp } from './support.js';

/**
 * A replica killed with SIGKILL in the middle of a sync tick: a real second process (the built
 * library, test/reliability/replica-child.mjs) on the same database claims orders, its provider
 * reads are held in flight by the simulator, and it is killed. The test's own replica must finish
 * every one of those orders, and touch none of them before the dead replica's lease ran out.
 */
const ORDERS = 300;
const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, 'replica-child.mjs');
const BUILT = join(here, '../../libs/fulfilment/dist/esm/index.js');

// Outside the describe: its afterAll runs after the describe's own (apps closed), so shutdown lines are scanned too.
useLogCapture();

describe('reliability: a replica SIGKILLed mid-sync', () => {
  let sim: ScriptDropSimulator;
  let db: TestDatabase;
  let ctx: ReliabilityApp;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first (the child replica runs the built library)`);
    sim = new ScriptDropSimulator({ apiKey: FAKE.scriptdropApiKey, apiSecret: FAKE.scriptdropApiSecret, stepMs: 0 });
    await sim.start();
    db = await createTestDatabase();
    ctx = await bootApp(
      {
        scriptdrop: { baseUrl: sim.url, apiKey: FAKE.scriptdropApiKey, apiSecret: FAKE.scriptdropApiSecret },
        sync: { enabled: false, intervalMs: 1_000, leaseMs: 1_500 },
      },
      { db },
    );
  });
  afterAll(async () => {
    // Only the process this test started, by its own handle.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await ctx?.close();
    await sim?.stop();
    await db?.cleanup();
  });

  it(`${ORDERS} orders: the killed replica's leased orders finish on the surviving replica, none before the lease expired`, async () => {
    // The provider's truth: most delivered, every 7th returned to the pharmacy.
    const body = { ...SCRIPTDROP_DOC_WIRE.sameday } as Record<string, unknown>;
    const simIds: string[] = [];
    for (let i = 0; i < ORDERS; i++) {
      const order = sim.seedOrder(body);
      if (i % 7 === 0) sim.failDelivery(order.id);
      for (let s = 0; s < 4; s++) sim.advance(order.id);
      simIds.push(order.id);
    }
    const rows = await seedOrders(
      ctx.dataSource,
      simIds.map((id) => ({ provider: 'scriptdrop' as const, providerOrderId: id, status: 'accepted' as const, providerStatus: 'new', serviceLevel: 'sameday' })),
    );

    // Every multi-get hangs: the child's tick stays in flight with its orders leased.
    sim.addFault({ method: 'GET', path: '/api/v1/orders', kind: 'hang' });
    const postgres = db.kind === 'postgres';
    const options = db.options as { schema?: string; database?: string };
    const config = {
      db: postgres ? { type: 'postgres', url: postgresUrl(), schema: options.schema } : { type: 'better-sqlite3', database: options.database },
      fulfilment: {
        scriptdrop: { baseUrl: sim.url, apiKey: FAKE.scriptdropApiKey, apiSecret: FAKE.scriptdropApiSecret, timeoutMs: 60_000, maxRetries: 0 },
        sync: { enabled: false, intervalMs: 1_000, batchSize: 50, concurrency: 2, leaseMs: 2_000 },
      },
    };
    child = spawn(process.execPath, [CHILD], { env: { ...process.env, REPLICA_CONFIG: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let childId: string | undefined;
    let tickDone = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      captureOutput('child:stdout', chunk);
      const text = chunk.toString('utf8');
      childId ??= /READY (\S+)/.exec(text)?.[1];
      if (text.includes('TICK_DONE')) tickDone = true;
    });
    child.stderr!.on('data', (chunk: Buffer) => captureOutput('child:stderr', chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child!.once('exit', (code, signal) => resolve({ code, signal })));

    // Mid-tick: orders leased to the child and its provider reads in flight.
    const leasedToChild = () => ctx.dataSource.manager.find(FulfilmentOrder, { where: { syncLeaseOwner: childId ?? '-' } });
    await waitFor(async () => childId !== undefined && (await leasedToChild()).length > 0 && sim.requests.some((r) => r.fault === 'hang'), 30_000, 'child replica mid-tick');
    expect(tickDone).toBe(false);
    child.kill('SIGKILL');
    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(tickDone).toBe(false);

    const orphaned = await leasedToChild();
    const orphanIds = orphaned.map((o) => o.id);
    const leaseUntil = new Map(orphaned.map((o) => [o.id, o.syncLeaseUntil!]));
    // The child claimed part of the work (one claim per sync worker) and changed none of it.
    expect(orphaned.length).toBeGreaterThan(0);
    expect(orphaned.length).toBeLessThan(ORDERS);
    expect(orphaned.every((o) => o.status === 'accepted' && o.providerStatus === 'new')).toBe(true);
    expect(await ctx.dataSource.manager.countBy(OrderStatusHistory, { orderId: In(orphanIds) })).toBe(0);

    // The surviving replica keeps syncing (provider healthy again) until every order is at its truth.
    sim.clearFaults();
    const sync = ctx.app.get(StatusSyncService);
    const normalised: Record<string, string> = { delivered: 'delivered', returned_to_pharmacy: 'returned' };
    const atTruth = async () => {
      const stored = await ctx.dataSource.manager.find(FulfilmentOrder, { where: { provider: 'scriptdrop' } });
      return stored.filter((o) => o.status === normalised[sim.orders.get(o.providerOrderId!)!.status]).length;
    };
    let ticks = 0;
    await waitFor(
      async () => {
        if ((await atTruth()) === ORDERS) return true;
        await makeAllDue(ctx.dataSource);
        await sync.runOnce();
        ticks++;
        return false;
      },
      30_000,
      'every order at its final status',
    );
    expect(await atTruth()).toBe(ORDERS);

    // The orphaned orders were finished by the survivor, and only once the dead replica's lease had run out.
    const history = await ctx.dataSource.manager.find(OrderStatusHistory, { where: { orderId: In(orphanIds), source: 'sync' } });
    const firstTouch = new Map<string, Date>();
    for (const h of history) if (!firstTouch.has(h.orderId) || h.createdAt < firstTouch.get(h.orderId)!) firstTouch.set(h.orderId, h.createdAt);
    expect(firstTouch.size).toBe(orphanIds.length);
    const early = orphanIds.filter((id) => firstTouch.get(id)!.getTime() < leaseUntil.get(id)!.getTime());
    expect(early).toEqual([]);
    // One history row per order (accepted/new → final), no lease left behind, every order read by the survivor.
    expect(await ctx.dataSource.manager.countBy(OrderStatusHistory, { orderId: In(rows.map((r) => r.id)) })).toBe(ORDERS);
    expect(await ctx.dataSource.manager.count(FulfilmentOrder, { where: { syncLeaseOwner: childId } })).toBe(0);
    expect(simIds.every((id) => sim.readCount(id) >= 1)).toBe(true);
    console.info(`replica kill: ${JSON.stringify({ db: db.kind, orders: ORDERS, leasedByKilledReplica: orphanIds.length, survivorTicks: ticks })}`);
  });

  it('log scan: the child replica and this process logged, and no line holds a fake key, secret or patient value', () => {
    expect(captured.some((c) => c.source.startsWith('child'))).toBe(true);
    expect(captured.some((c) => c.line.includes('/api/v1/orders'))).toBe(true);
    expect(findLeaks()).toEqual([]);
  });
});
