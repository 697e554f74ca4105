/**
 * bench/growth: what a large webhook inbox and its pruning cost ingestion, on SQLite and PostgreSQL.
 *
 *   npm run bench:growth [-- --db sqlite|postgres|both --inbox 5000000 --prune 1000000 --runs 3 --duration 5 --connections 16 --orders 200000]
 *
 * Per database, side by side in one process, `runs` times each:
 * 1. the CaryRx order-webhook route on an empty inbox vs on one holding `inbox` rows (events of the
 *    same orders, so new dedup keys land among the old ones): cost ratio = empty req/s ÷ big req/s;
 * 2. the big one alone vs while RetentionService prunes a backlog of `prune` old rows (its default
 *    batches and pacing), both for `duration` seconds; the prune is stopped when the load ends:
 *    throughput and p99 ratios, and the prune's own rate over that window;
 * then bytes per row of the inbox, orders and history. Ends with one `JSON {...}` line per database.
 */
import 'reflect-metadata';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AutocannonResult } from 'autocannon';
import { FulfilmentModule, RetentionService } from 'nestjs-fulfilment';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from '../../test/support/test-database.js';
import { BENCH_WEBHOOK_SECRET, CARYRX_ORDERS_ROUTE, benchArgs, insertBenchOrdersSql, listen, load, orderEvents, postgresAnswers } from '../support/webhook-load.js';
import { bytesPerRow, seedInbox } from './seed.js';

const args = benchArgs();
const DURATION = Number(args.get('duration') ?? 5);
const CONNECTIONS = Number(args.get('connections') ?? 16);
const INBOX = Number(args.get('inbox') ?? 5_000_000);
const PRUNE = Number(args.get('prune') ?? 1_000_000);
const RUNS = Number(args.get('runs') ?? 3);
const ORDERS = Number(args.get('orders') ?? 200_000);
const DAY = 86_400_000;
/** Run k prunes tier k: rows received TIER_DAYS[k] days ago (the rest of the inbox is 20 days old). */
const TIER_DAYS = [300, 200, 100, 80, 60].slice(0, RUNS);
const TABLES = ['fulfilment_webhook_inbox', 'fulfilment_orders', 'fulfilment_order_status_history'];

interface Target {
  app: INestApplication;
  url: string;
  ds: DataSource;
  retention: RetentionService;
  /** The next event's sequence number: runs carry on where the last stopped. */
  next: { seq: number };
}

async function start(db: TestDatabase): Promise<Target> {
  @Module({
    imports: [
      TypeOrmModule.forRoot(db.options),
      FulfilmentModule.forRoot({
        caryrx: { baseUrl: 'http://127.0.0.1:9', apiKey: 'bench-key', environment: 'development' },
        webhooks: { secret: BENCH_WEBHOOK_SECRET },
        sync: { enabled: false },
        retention: { enabled: false }, // runs are started by the bench, with the default batch and pause
      }),
    ],
  })
  class GrowthModule {}
  const app = await NestFactory.create(GrowthModule, { logger: ['error', 'warn'] });
  const url = await listen(app);
  const ds = app.get(DataSource);
  await ds.query(insertBenchOrdersSql(db.kind === 'postgres', ORDERS));
  return { app, url, ds, retention: app.get(RetentionService), next: { seq: 0 } };
}

const events = orderEvents(ORDERS);
/** Drops the bench's databases when it is interrupted (they hold millions of rows). */
const cleanups: Array<() => Promise<void>> = [];
process.once('SIGINT', () => void Promise.allSettled(cleanups.map((c) => c())).then(() => process.exit(130)));
const post = (t: Target, duration: number) => load(t.url, CARYRX_ORDERS_ROUTE, events, { connections: CONNECTIONS, duration, next: t.next });

interface Measured {
  rps: number;
  p99: number;
  non2xx: number;
}
/** Answered requests per second over the run (also right for a run stopped early), and p99. */
const measured = (r: AutocannonResult): Measured => ({ rps: r['2xx'] / r.duration, p99: r.latency.p99, non2xx: r.non2xx + r.errors + r.timeouts });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs: number[], digits = 2) => `${xs.map((x) => x.toFixed(digits)).join(' / ')} (median ${median(xs).toFixed(digits)}, spread ${(Math.max(...xs) - Math.min(...xs)).toFixed(digits)})`;

/**
 * Before measuring: statistics and visibility map current, and what the bulk writes dirtied flushed
 * (otherwise PostgreSQL's next checkpoint writes gigabytes in the middle of a run).
 */
async function settle(t: Target, postgres: boolean): Promise<void> {
  if (postgres) {
    await t.ds.query('VACUUM ANALYZE');
    await t.ds.query('CHECKPOINT').catch(() => console.log('  (CHECKPOINT needs a superuser or pg_checkpoint: skipped)'));
  } else await t.ds.query('PRAGMA wal_checkpoint(TRUNCATE)');
}

async function benchOn(kind: TestDatabaseKind): Promise<Record<string, unknown>> {
  const postgres = kind === 'postgres';
  const dbs = [await createTestDatabase(kind), await createTestDatabase(kind)];
  cleanups.push(...dbs.map((db) => () => db.cleanup()));
  const [empty, big] = [await start(dbs[0]), await start(dbs[1])];
  try {
    const seeded = performance.now();
    // SQLite: a large page cache while seeding only (random keys into a 5M-entry index); back to the default after.
    if (!postgres) await big.ds.query('PRAGMA cache_size = -1000000');
    await seedInbox(big.ds, { from: 1, to: INBOX, orders: ORDERS, tiers: [...TIER_DAYS.map((daysAgo, k) => ({ upTo: (k + 1) * PRUNE, daysAgo })), { upTo: INBOX, daysAgo: 20 }] });
    if (!postgres) await big.ds.query('PRAGMA cache_size = -2000');
    await settle(big, postgres);
    await settle(empty, postgres);
    console.log(`  [${kind}] ${INBOX.toLocaleString()} inbox rows seeded in ${((performance.now() - seeded) / 1000).toFixed(0)} s; ${ORDERS.toLocaleString()} orders in each database`);
    // The inbox's size as seeded (after the prunes PostgreSQL keeps the freed pages for reuse).
    const inboxSize = (await bytesPerRow(big.ds, [TABLES[0]]))[TABLES[0]];
    await post(empty, 2);
    await post(big, 2);

    // 1. Empty vs big inbox, alternating.
    const costRatios: number[] = [];
    const p99Ratios: number[] = [];
    const rows: Array<Record<string, unknown>> = [];
    for (let r = 0; r < RUNS; r++) {
      const e = measured(await post(empty, DURATION));
      const b = measured(await post(big, DURATION));
      costRatios.push(e.rps / b.rps);
      p99Ratios.push(b.p99 / Math.max(e.p99, 1));
      rows.push({ run: r + 1, 'empty req/s': Math.round(e.rps), 'big req/s': Math.round(b.rps), 'empty p99 ms': e.p99, 'big p99 ms': b.p99, 'non-2xx': e.non2xx + b.non2xx });
    }
    console.table(rows);
    console.log(`  [${kind}] cost with ${INBOX.toLocaleString()} rows ÷ empty (req/s empty ÷ big): ${spread(costRatios)} (goal ≤ 1.1x); p99 big ÷ empty ${spread(p99Ratios)}`);

    // 2. Alone vs during a prune of a PRUNE-row backlog, alternating; the prune's rate meanwhile.
    const throughputRatios: number[] = [];
    const pruneP99Ratios: number[] = [];
    const rates: number[] = [];
    const pruneRows: Array<Record<string, unknown>> = [];
    for (let r = 0; r < RUNS; r++) {
      const alone = measured(await post(big, DURATION));
      const stop = new AbortController();
      const started = performance.now();
      const pruning = big.retention.prune({ inboxBefore: new Date(Date.now() - (TIER_DAYS[r] - 10) * DAY) }, { signal: stop.signal });
      const during = measured(await post(big, DURATION));
      stop.abort();
      const report = await pruning;
      const seconds = (performance.now() - started) / 1000;
      throughputRatios.push(during.rps / alone.rps);
      pruneP99Ratios.push(during.p99 / Math.max(alone.p99, 1));
      rates.push(report.pruned.inbox / seconds);
      pruneRows.push({ run: r + 1, pruned: report.pruned.inbox, 'prune s': seconds.toFixed(1), 'alone req/s': Math.round(alone.rps), 'during req/s': Math.round(during.rps), 'alone p99 ms': alone.p99, 'during p99 ms': during.p99, 'non-2xx': alone.non2xx + during.non2xx });
      await settle(big, postgres);
    }
    console.table(pruneRows);
    console.log(`  [${kind}] during a prune ÷ alone: throughput ${spread(throughputRatios)} (goal ≥ 0.8x), p99 ${spread(pruneP99Ratios)} (goal ≤ 1.5x); prune ${spread(rates, 0)} rows/s`);

    const sizes = { ...(await bytesPerRow(big.ds, TABLES.slice(1))), [TABLES[0]]: inboxSize };
    console.log(`  [${kind}] bytes per row, indexes included: ${TABLES.map((t) => `${t} ${sizes[t].perRow} (${sizes[t].rows.toLocaleString()} rows)`).join(', ')}`);
    return {
      db: kind,
      inboxRows: INBOX,
      bigInboxCostRatio: median(costRatios),
      bigInboxCostRatios: costRatios,
      bigInboxP99Ratios: p99Ratios,
      duringPruneThroughputRatio: median(throughputRatios),
      duringPruneThroughputRatios: throughputRatios,
      duringPruneP99Ratio: median(pruneP99Ratios),
      duringPruneP99Ratios: pruneP99Ratios,
      pruneRowsPerSec: median(rates),
      pruneRowsPerSecRuns: rates,
      bytesPerRow: Object.fromEntries(TABLES.map((t) => [t, sizes[t].perRow])),
    };
  } finally {
    await empty.app.close();
    await big.app.close();
    for (const db of dbs) await db.cleanup();
    cleanups.length = 0;
  }
}

async function main(): Promise<void> {
  if (PRUNE * RUNS > INBOX) throw new Error('--prune × --runs must not exceed --inbox');
  const which = args.get('db') ?? 'both';
  const kinds: TestDatabaseKind[] = which === 'both' ? ['sqlite', 'postgres'] : [which as TestDatabaseKind];
  console.log(`bench/growth: ${CONNECTIONS} connections, ${DURATION}s per run, ${RUNS} runs, ${INBOX.toLocaleString()} inbox rows, prunes of ${PRUNE.toLocaleString()}, node ${process.version}`);
  const results: Array<Record<string, unknown>> = [];
  for (const kind of kinds) {
    if (kind === 'postgres' && !(await postgresAnswers())) {
      console.log('  PostgreSQL does not answer: skipped');
      continue;
    }
    results.push(await benchOn(kind));
  }
  for (const result of results) console.log(`JSON ${JSON.stringify(result)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
