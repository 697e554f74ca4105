/**
 * bench/sync: cost of the scheduled status sync on PostgreSQL against the ScriptDrop simulator
 * (run in a child process, so the measured process holds only the library).
 *
 *   npm run bench:sync [-- --open 10000 --closed 1000000 --rss-open 100000 --runs 3 --phases 1,2,3]
 *
 * 1. N open ScriptDrop orders, all due: HTTP calls and wall time of one full sync (StatusSyncService
 *    .runOnce), against a bare loop making the same GET /api/v1/orders?ids[]=… calls with node:http.
 * 2. The same with M closed orders added to the table (generate_series), plus the claim's EXPLAIN.
 * 3. Peak RSS growth while syncing R open orders.
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { FulfilmentModule, StatusSyncService, type SyncTickReport } from 'nestjs-fulfilment';
import { ScriptDropSimulator } from 'nestjs-fulfilment/testing';
import { createTestDatabase } from '../../test/support/test-database.js';
import { SCRIPTDROP_DOC_WIRE } from '../../test/fixtures/scriptdrop-examples.js';

const args = new Map<string, string>();
process.argv.slice(2).forEach((arg, i, all) => {
  if (arg.startsWith('--')) args.set(arg.slice(2), all[i + 1] ?? '');
});
const OPEN = Number(args.get('open') ?? 10_000);
const CLOSED = Number(args.get('closed') ?? 1_000_000);
const RSS_OPEN = Number(args.get('rss-open') ?? 100_000);
const RUNS = Number(args.get('runs') ?? 3);
/** `--phases 3` measures memory alone in a fresh process (phase 2 needs phase 1's figure). */
const PHASES = new Set((args.get('phases') ?? '1,2,3').split(','));
const BATCH = 50;

// --- the simulator, in a child process ------------------------------------------------------------

type SimOp =
  | { op: 'seed'; prefix: string; count: number }
  | { op: 'advance' }
  | { op: 'reads'; prefix: string; count: number }
  | { op: 'forget' };

async function simChild(): Promise<void> {
  const sim = new ScriptDropSimulator({ stepMs: 0, recordCreateBodies: false });
  await sim.start();
  const reply = (id: number, result: unknown) => process.send!({ id, result });
  process.on('message', (msg: { id: number } & SimOp) => {
    if (msg.op === 'seed') {
      for (let i = 0; i < msg.count; i++) sim.seedOrder(SCRIPTDROP_DOC_WIRE.sameday, { id: `${msg.prefix}${i}` });
      reply(msg.id, msg.count);
    } else if (msg.op === 'advance') {
      reply(msg.id, sim.advance().length);
    } else if (msg.op === 'reads') {
      let max = 0;
      let total = 0;
      for (let i = 0; i < msg.count; i++) {
        const n = sim.readCount(`${msg.prefix}${i}`);
        max = Math.max(max, n);
        total += n;
      }
      reply(msg.id, { max, total, multiGets: sim.countRequests('GET', '/api/v1/orders') });
    } else if (msg.op === 'forget') {
      sim.resetReadCounts();
      sim.resetRequestLog();
      reply(msg.id, true);
    }
  });
  process.send!({ id: 0, result: { url: sim.url, apiKey: sim.apiKey, apiSecret: sim.apiSecret } });
}

class SimHandle {
  private seq = 1;
  private readonly waiting = new Map<number, (r: any) => void>();
  constructor(private readonly child: ChildProcess) {
    child.on('message', (m: { id: number; result: unknown }) => {
      this.waiting.get(m.id)?.(m.result);
      this.waiting.delete(m.id);
    });
  }
  static async start(): Promise<{ sim: SimHandle; url: string; apiKey: string; apiSecret: string }> {
    const child = fork(fileURLToPath(import.meta.url), ['--sim-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const sim = new SimHandle(child);
    const ready = await new Promise<{ url: string; apiKey: string; apiSecret: string }>((resolve) => sim.waiting.set(0, resolve));
    return { sim, ...ready };
  }
  call<T>(op: SimOp): Promise<T> {
    const id = this.seq++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ id, ...op });
    });
  }
  stop(): void {
    this.child.kill();
  }
}

// --- helpers --------------------------------------------------------------------------------------

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function insertOrders(ds: DataSource, prefix: string, count: number, open: boolean): Promise<void> {
  const chunk = 200_000;
  for (let from = 1; from <= count; from += chunk) {
    const to = Math.min(count, from + chunk - 1);
    // Ids 0-based to match the simulator's `${prefix}${i}`.
    await ds.query(
      `INSERT INTO fulfilment_orders (id, provider, provider_order_id, idempotency_key, status, provider_status, version,
         next_sync_at, sync_failures, created_at, updated_at)
       SELECT '${prefix}-' || (g - 1), 'scriptdrop', '${prefix}' || (g - 1), 'key-${prefix}-' || (g - 1),
         ${open ? `'accepted', 'new'` : `'delivered', 'delivered'`}, 1,
         ${open ? `now()::timestamp - interval '1 minute'` : 'NULL'}, 0, now()::timestamp, now()::timestamp
       FROM generate_series(${from}, ${to}) g`,
    );
  }
}

async function makeDue(ds: DataSource): Promise<void> {
  await ds.query(`UPDATE fulfilment_orders SET next_sync_at = now()::timestamp - interval '1 minute' WHERE next_sync_at IS NOT NULL`);
}

/** The same multi-gets made with node:http: keep-alive, `parallel` loops over the batches. */
async function bareLoop(url: string, auth: string, prefix: string, count: number, parallel: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: parallel });
  const base = new URL(url);
  const get = (ids: string[]) =>
    new Promise<void>((resolve, reject) => {
      const path = `/api/v1/orders?${ids.map((id) => `ids[]=${encodeURIComponent(id)}`).join('&')}`;
      const req = request({ host: base.hostname, port: base.port, path, agent, headers: { authorization: auth, accept: 'application/json' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          JSON.parse(Buffer.concat(chunks).toString('utf8'));
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  const batches: string[][] = [];
  for (let i = 0; i < count; i += BATCH) batches.push(Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => `${prefix}${i + j}`));
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < batches.length) await get(batches[next++]);
    }),
  );
  const ms = performance.now() - started;
  agent.destroy();
  return ms;
}

async function timedSync(sync: StatusSyncService): Promise<{ ms: number; report: SyncTickReport }> {
  const started = performance.now();
  const report = await sync.runOnce();
  return { ms: performance.now() - started, report };
}

// --- main -----------------------------------------------------------------------------------------

interface Bench {
  ds: DataSource;
  sync: StatusSyncService;
  sim: SimHandle;
  url: string;
  auth: string;
  out: Record<string, unknown>;
}

/** [1] N open orders, nothing changed: calls and wall time against the bare loop; then all changed. */
async function phaseOpen({ ds, sync, sim, url, auth, out }: Bench): Promise<void> {
  await sim.call({ op: 'seed', prefix: 'o', count: OPEN });
  await insertOrders(ds, 'o', OPEN, true);
  await ds.query('VACUUM ANALYZE fulfilment_orders');
  await makeDue(ds);
  await sync.runOnce(); // warm-up: connections, JIT
  await bareLoop(url, auth, 'o', OPEN, 1);

  const syncMs: number[] = [];
  let report: SyncTickReport | undefined;
  for (let r = 0; r < RUNS; r++) {
    await makeDue(ds);
    await sim.call({ op: 'forget' });
    const run = await timedSync(sync);
    syncMs.push(run.ms);
    report = run.report;
  }
  const reads = await sim.call<{ max: number; total: number; multiGets: number }>({ op: 'reads', prefix: 'o', count: OPEN });
  const bareSeq: number[] = [];
  for (let r = 0; r < RUNS; r++) bareSeq.push(await bareLoop(url, auth, 'o', OPEN, 1));
  const bare2: number[] = [];
  for (let r = 0; r < RUNS; r++) bare2.push(await bareLoop(url, auth, 'o', OPEN, 2));
  const [unchangedMs, bare1, bareTwo] = [median(syncMs), median(bareSeq), median(bare2)];
  console.log(`\n[1] ${OPEN} open ScriptDrop orders, nothing changed (steady state)`);
  console.log(`    sync: claimed ${report!.claimed}, HTTP calls ${report!.httpCalls.scriptdrop} (goal ≤ 200), max reads of one order ${reads.max}`);
  console.log(`    sync wall time ${unchangedMs.toFixed(0)} ms; bare node:http loop ${bare1.toFixed(0)} ms sequential, ${bareTwo.toFixed(0)} ms 2-way`);
  console.log(`    ratio vs sequential bare loop ${(unchangedMs / bare1).toFixed(2)}x (goal ≤ 1.5x); vs 2-way ${(unchangedMs / bareTwo).toFixed(2)}x`);
  out.open = { orders: OPEN, httpCalls: report!.httpCalls.scriptdrop, syncMs: unchangedMs, bareSeqMs: bare1, bare2Ms: bareTwo };

  // Every order changed (one simulator step): each goes through the transition path.
  await sim.call({ op: 'advance' });
  await makeDue(ds);
  const changedRun = await timedSync(sync);
  console.log(
    `    every order changed: ${changedRun.report.changed} transitions (history + event each) in ${changedRun.ms.toFixed(0)} ms ` +
      `(${(changedRun.ms / bare1).toFixed(2)}x the bare loop)`,
  );
  out.changed = { transitions: changedRun.report.changed, ms: changedRun.ms };
}

const medianSync = async (ds: DataSource, sync: StatusSyncService): Promise<number> => {
  const xs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    await makeDue(ds);
    xs.push((await timedSync(sync)).ms);
  }
  return median(xs);
};

/**
 * [2] The same open orders with M closed orders added: tick time ratio, and the claim's plan. The
 * baseline is re-measured right before the insert, in the same state (vacuumed, warm).
 */
async function phaseClosed({ ds, sync, out }: Bench): Promise<void> {
  await ds.query('VACUUM ANALYZE fulfilment_orders');
  await makeDue(ds);
  await sync.runOnce();
  const unchangedMs = await medianSync(ds, sync);
  const t0 = performance.now();
  await insertOrders(ds, 'c', CLOSED, false);
  await ds.query('VACUUM ANALYZE fulfilment_orders');
  const insertMs = performance.now() - t0;
  await makeDue(ds);
  await sync.runOnce(); // warm-up after the insert
  const closedMs = await medianSync(ds, sync);
  console.log(`\n[2] + ${CLOSED} closed orders (inserted in ${(insertMs / 1000).toFixed(1)} s)`);
  console.log(`    sync wall time ${closedMs.toFixed(0)} ms, open orders only just before: ${unchangedMs.toFixed(0)} ms; ratio ${(closedMs / unchangedMs).toFixed(2)}x (goal ≤ 1.1x)`);
  const plan = (await ds.query(
    `EXPLAIN UPDATE fulfilment_orders SET sync_lease_owner = 'x', sync_lease_until = now()::timestamp
     WHERE id = ANY(ARRAY(SELECT id FROM fulfilment_orders WHERE next_sync_at IS NOT NULL AND next_sync_at <= now()::timestamp
       AND provider IN ('scriptdrop') AND provider_order_id IS NOT NULL AND status NOT IN ('delivered','returned','cancelled')
       AND (sync_lease_until IS NULL OR sync_lease_until < now()::timestamp)
       ORDER BY next_sync_at LIMIT ${BATCH * 4} FOR UPDATE SKIP LOCKED)) RETURNING id`,
  )) as Array<{ 'QUERY PLAN': string }>;
  console.log(`    claim plan:\n${plan.map((r) => `      ${r['QUERY PLAN']}`).join('\n')}`);
  out.closed = { orders: CLOSED, syncMs: closedMs, openOnlyMs: unchangedMs, ratio: closedMs / unchangedMs };
}

/** [3] Peak RSS growth while syncing R open orders (unchanged, then all changed). */
async function phaseMemory({ ds, sync, sim, out }: Bench): Promise<void> {
  await ds.query('TRUNCATE fulfilment_order_status_history, fulfilment_orders');
  await sim.call({ op: 'seed', prefix: 'r', count: RSS_OPEN });
  await insertOrders(ds, 'r', RSS_OPEN, true);
  await ds.query('VACUUM ANALYZE fulfilment_orders');
  const measure = async (label: string) => {
    await makeDue(ds);
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    const run = await timedSync(sync);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage.rss());
    console.log(
      `    ${label}: ${run.report.claimed} orders, ${run.report.changed} changed, ${run.report.httpCalls.scriptdrop} calls, ` +
        `${(run.ms / 1000).toFixed(1)} s; RSS ${mb(before)} → peak ${mb(peak)}: growth ${mb(peak - before)} (goal ≤ 50 MB)`,
    );
    return peak - before;
  };
  console.log(`\n[3] ${RSS_OPEN} open orders${(globalThis as { gc?: unknown }).gc ? '' : ' (run node with --expose-gc for a settled baseline)'}`);
  const unchangedGrowth = await measure('first sync (nothing changed)');
  await sim.call({ op: 'advance' });
  const changedGrowth = await measure('every order changed');
  out.rss = { orders: RSS_OPEN, unchangedGrowth, changedGrowth };
}

async function main(): Promise<void> {
  const db = await createTestDatabase('postgres');
  const { sim, url, apiKey, apiSecret } = await SimHandle.start();
  const auth = `Basic ${Buffer.from(`${apiKey}:${apiSecret}`).toString('base64')}`;

  @Module({
    imports: [
      TypeOrmModule.forRoot(db.options),
      EventEmitterModule.forRoot(),
      FulfilmentModule.forRoot({ scriptdrop: { baseUrl: url, apiKey, apiSecret }, sync: { enabled: false, batchSize: BATCH } }),
    ],
  })
  class BenchModule {}

  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
  const bench: Bench = { ds: app.get<DataSource>(getDataSourceToken()), sync: app.get(StatusSyncService), sim, url, auth, out: {} };
  try {
    console.log(`bench:sync on PostgreSQL, node ${process.version}, batch ${BATCH}, ${RUNS} runs each (median), phases ${[...PHASES].join(',')}`);
    if (PHASES.has('1')) {
      await phaseOpen(bench);
      if (PHASES.has('2')) await phaseClosed(bench);
    }
    if (PHASES.has('3')) await phaseMemory(bench);
    console.log(`\nJSON ${JSON.stringify(bench.out)}`);
  } finally {
    await app.close();
    sim.stop();
    await db.cleanup();
  }
}

if (process.argv.includes('--sim-child')) void simChild();
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
