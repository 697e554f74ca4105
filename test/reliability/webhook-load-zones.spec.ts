import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FulfilmentOrder, FulfilmentService, OrderStatusHistory, WebhookInboxEvent } from 'nestjs-fulfilment';
import { CaryRxSimulator } from 'nestjs-fulfilment/testing';
import { seedOrders } from '../sync/support.js';
import { createTestDatabase, postgresUrl, testDatabaseKind, type TestDatabase } from '../support/test-database.js';
import { CARYRX_NORMALISED_STATUS, FAKE, bootApp, captureOutput, fakeLocation, fakePatient, findLeaks, useLogCapture, waitFor, type ReliabilityApp } from './support.js';
import { answerCounts, deliverWebhookLoad, planWebhookLoad } from './webhook-load-plan.js';

/**
 * The reliability suite's webhook load (10,000 deliveries: duplicates, late events) against TWO
 * replicas on one PostgreSQL schema, one with TZ=UTC and one with TZ=America/New_York, each a
 * process of its own running the built library. Each event goes to one of them; each duplicate to
 * both at the same moment. Every order must end at the simulator's status with the history a single
 * replica would have written: the same rows, in the same order, with the same instants.
 */
const UNIQUE = 8_000;
const DUPLICATES = 2_000;
const LATE = 1_000;
const CONCURRENCY = 50;
/** A guard against a hung run, not a speed goal: on a loaded 2-core machine the load takes minutes. */
const LOAD_TIMEOUT_MS = 600_000;
const ZONES = ['UTC', 'America/New_York'];
const here = dirname(fileURLToPath(import.meta.url));
const SERVER = join(here, 'zone-replica-server.mjs');
const BUILT = join(here, '../../libs/fulfilment/dist/esm/index.js');

useLogCapture();

// Time zones only matter where timestamps are stored as instants by the server: PostgreSQL. SQLite is one process.
const describePostgres = testDatabaseKind() === 'postgres' ? describe : describe.skip;

describePostgres('reliability: the webhook load on two replicas in different time zones (PostgreSQL only)', () => {
  let sim: CaryRxSimulator;
  let db: TestDatabase;
  let ctx: ReliabilityApp;
  const replicas: Array<{ child: ChildProcess; url: string; zone: string }> = [];

  beforeAll(async () => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first (the replicas run the built library)`);
    sim = new CaryRxSimulator({ apiKey: FAKE.caryrxApiKey, stepMs: 0, undocumented: { eventTimestamps: true } });
    await sim.start();
    db = await createTestDatabase();
    const fulfilment = { caryrx: { baseUrl: sim.url, apiKey: FAKE.caryrxApiKey, environment: 'development' }, webhooks: { secret: FAKE.webhookSecret }, sync: { enabled: false } };
    // This process's app runs the migrations and places the patient; the two replicas serve the load.
    ctx = await bootApp(fulfilment as never, { db });
    for (const zone of ZONES) {
      const child = spawn(process.execPath, [SERVER], {
        env: { ...process.env, TZ: zone, NODE_OPTIONS: '', REPLICA_CONFIG: JSON.stringify({ url: postgresUrl(), schema: (db.options as { schema: string }).schema, fulfilment }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let ready: { url: string; zone: string } | undefined;
      child.stdout!.on('data', (chunk: Buffer) => {
        captureOutput(`replica ${zone}`, chunk);
        const m = /READY (\d+) (\S+)/.exec(chunk.toString());
        if (m) ready = { url: `http://127.0.0.1:${m[1]}`, zone: m[2] };
      });
      child.stderr!.on('data', (chunk: Buffer) => captureOutput(`replica ${zone} stderr`, chunk));
      await waitFor(() => ready !== undefined || child.exitCode !== null, 30_000, `replica ${zone} ready`);
      if (!ready) throw new Error(`replica ${zone} exited (${child.exitCode})`);
      replicas.push({ child, ...ready });
    }
  });
  afterAll(async () => {
    for (const { child } of replicas) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await ctx?.close();
    await sim?.stop();
    await db?.cleanup();
  });

  it(`${UNIQUE + DUPLICATES} deliveries across TZ=UTC and TZ=America/New_York: every order at its true status, the same history`, async () => {
    expect(replicas.map((r) => r.zone)).toEqual(ZONES);
    const fulfilment = ctx.app.get(FulfilmentService);
    const link = await fulfilment.caryrx.ensurePatient('zones-patient', fakePatient());
    const location = await fulfilment.caryrx.addLocation('zones-patient', fakeLocation());
    const plan = planWebhookLoad(sim, { patientId: link.providerPatientId!, locationId: location.providerLocationId }, { unique: UNIQUE, duplicates: DUPLICATES, late: LATE, seed: 11 });
    const rows = await seedOrders(
      ctx.dataSource,
      plan.ids.map((id) => ({ provider: 'caryrx' as const, providerOrderId: id, status: 'created' as const, providerStatus: null, nextSyncAt: null })),
    );
    const orderIdOf = new Map(rows.map((r) => [r.providerOrderId!, r.id]));

    // Each event to one replica (alternating along its order's events); a duplicate's two copies to both.
    const served = [0, 0];
    const path = `/fulfilment/webhooks/caryrx/orders?token=${encodeURIComponent(FAKE.webhookSecret)}`;
    const results = await deliverWebhookLoad(
      plan,
      (d, copy) => {
        const r = (d.order + d.step + copy) % 2;
        served[r]++;
        return `${replicas[r].url}${path}`;
      },
      CONCURRENCY,
    );
    expect(served.every((n) => n > 1_000)).toBe(true);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    expect(answerCounts(results)).toEqual({ duplicates: DUPLICATES, applied: plan.expectedAppliedTotal, stale: UNIQUE - plan.expectedAppliedTotal });
    expect(results.filter((r) => plan.lateKeys.has(`${r.order}:${r.step}`)).every((r) => r.outcome === 'stale')).toBe(true);

    const em = ctx.dataSource.manager;
    expect(await em.count(WebhookInboxEvent, { where: { topic: 'caryrx.order' } })).toBe(UNIQUE);

    // The same history a single replica writes: per order, the events that were newer than all
    // before them, in plan order, each with the provider's instant.
    const history = await em.find(OrderStatusHistory, { where: { source: 'webhook' }, order: { createdAt: 'ASC', id: 'ASC' } });
    const got = new Map<string, string[]>();
    for (const h of history) got.set(h.orderId, [...(got.get(h.orderId) ?? []), `${h.toProviderStatus}@${h.providerTimestamp?.toISOString()}`]);
    const wrong = plan.ids.filter((id, i) => {
      let max = -1;
      const expected: string[] = [];
      for (const d of plan.plans[i]) {
        if (d.step <= max) continue;
        max = d.step;
        expected.push(`${d.body.order_status}@${new Date(d.body.updated_at as string).toISOString()}`);
      }
      return JSON.stringify(got.get(orderIdOf.get(id)!) ?? []) !== JSON.stringify(expected);
    });
    expect(wrong).toEqual([]);

    const stored = await em.find(FulfilmentOrder, { where: { provider: 'caryrx' } });
    const mismatches = stored.filter((o) => {
      const truth = sim.orders.get(o.providerOrderId!)!;
      return o.providerStatus !== truth.status || o.status !== CARYRX_NORMALISED_STATUS[truth.status] || o.providerUpdatedAt?.toISOString() !== truth.updatedAt;
    });
    expect(stored).toHaveLength(plan.ids.length);
    expect(mismatches.map((o) => o.providerOrderId)).toEqual([]);
    expect(findLeaks()).toEqual([]);
  }, LOAD_TIMEOUT_MS);
});
