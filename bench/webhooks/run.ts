/**
 * bench/webhooks: throughput and latency of the CaryRx order-webhook route, side by side in one run
 * with (a) the same route in a host with EventEmitter and a listener (every change also goes through
 * the outbox), (b) a bare Nest 12 endpoint doing one INSERT of the same payload into the same
 * database and (c) a raw node:http server doing nothing. On SQLite, and on PostgreSQL when it answers.
 *
 *   npm run bench:webhooks [-- --duration 10 --connections 16 --db sqlite|postgres|both]
 *
 * Every webhook is committed before its 2xx in both endpoints: durability is the same.
 */
import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Body, Controller, HttpCode, Injectable, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule, InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { FulfilmentEvents, FulfilmentModule } from 'nestjs-fulfilment';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from '../../test/support/test-database.js';
import { BENCH_WEBHOOK_SECRET, CARYRX_ORDERS_ROUTE, benchArgs, insertBenchOrdersSql, listen, load, loadRow, orderEvents, postgresAnswers, type LoadRow } from '../support/webhook-load.js';

const args = benchArgs();
const DURATION = Number(args.get('duration') ?? 10);
const CONNECTIONS = Number(args.get('connections') ?? 16);
const ORDERS = Number(args.get('orders') ?? 40_000);
const orderEvent = orderEvents(ORDERS);

// --- the bare endpoint: one INSERT of the payload -------------------------------------------------

@Injectable()
class BareStore {
  private insertSql = '';
  constructor(@InjectDataSource() private readonly ds: DataSource) {
    this.insertSql =
      ds.options.type === 'postgres'
        ? 'INSERT INTO bench_bare_events (id, payload, received_at) VALUES ($1, $2, $3)'
        : 'INSERT INTO bench_bare_events (id, payload, received_at) VALUES (?, ?, ?)';
  }
  insert(body: unknown): Promise<unknown> {
    return this.ds.query(this.insertSql, [randomUUID(), JSON.stringify(body), new Date().toISOString()]);
  }
}

@Controller('bare')
class BareController {
  constructor(private readonly store: BareStore) {}
  @Post('orders')
  @HttpCode(200)
  async receive(@Body() body: unknown): Promise<{ ok: true }> {
    await this.store.insert(body);
    return { ok: true };
  }
}

// --- runs -----------------------------------------------------------------------------------------

const run = (url: string, path: string) => load(url, path, orderEvent, { connections: CONNECTIONS, duration: DURATION });

/**
 * The module's webhook route on a fresh database of `kind`. With `events`, the host has
 * EventEmitter and a listener: every change also writes its outbox row and is delivered and marked.
 */
async function benchOurs(kind: TestDatabaseKind, events: boolean) {
  const db: TestDatabase = await createTestDatabase(kind);
  let heard = 0;
  @Module({
    imports: [
      TypeOrmModule.forRoot(db.options),
      ...(events ? [EventEmitterModule.forRoot()] : []),
      FulfilmentModule.forRoot({
        caryrx: { baseUrl: 'http://127.0.0.1:9', apiKey: 'bench-key', environment: 'development' },
        webhooks: { secret: BENCH_WEBHOOK_SECRET },
        sync: { enabled: false },
      }),
    ],
  })
  class OursModule {}
  const app = await NestFactory.create(OursModule, { logger: ['error'] });
  if (events) app.get(EventEmitter2).on(FulfilmentEvents.OrderStatusChanged, () => void heard++);
  const url = await listen(app);
  const ds = app.get(DataSource);
  await ds.query(insertBenchOrdersSql(kind === 'postgres', ORDERS));
  const result = await run(url, CARYRX_ORDERS_ROUTE);
  const history = await ds.query('SELECT COUNT(*) AS n FROM fulfilment_order_status_history');
  const inbox = await ds.query('SELECT COUNT(*) AS n FROM fulfilment_webhook_inbox');
  const outbox = events ? (await ds.query('SELECT COUNT(*) AS n FROM fulfilment_outbox WHERE delivered_at IS NOT NULL'))[0].n : 'no';
  console.log(`  [${kind}${events ? ', events' : ''}] ours stored ${inbox[0].n} inbox rows, ${history[0].n} history rows, ${outbox} delivered outbox rows (${heard} events heard) for ${result['2xx']} 2xx answers`);
  return { result, db, app };
}

async function benchOn(kind: TestDatabaseKind, raw: string): Promise<LoadRow[]> {
  // `--only ours` measures our route alone (for profiling with --cpu-prof).
  const only = args.get('only');
  // Ours first, without and with the host's EventEmitter (outbox), each on a database of its own.
  const ours = await benchOurs(kind, false);
  const withEvents = only === 'ours' ? undefined : await benchOurs(kind, true);
  await withEvents?.app.close();
  await withEvents?.db.cleanup();
  const ds = ours.app.get(DataSource);
  try {
    // Bare: one INSERT per request into the same database as ours, with the same settings.
    await ds.query('CREATE TABLE bench_bare_events (id varchar(36) PRIMARY KEY, payload text NOT NULL, received_at ' +
      (kind === 'postgres' ? 'timestamp' : 'datetime') + ' NOT NULL)');
    @Module({ imports: [TypeOrmModule.forRoot({ ...(ours.db.options as DataSourceOptions), migrationsRun: false })], controllers: [BareController], providers: [BareStore] })
    class BareModule {}
    const bare = await NestFactory.create(BareModule, { logger: ['error'] });
    const bareUrl = await listen(bare);
    const bareResult = only === 'ours' ? ours.result : await run(bareUrl, '/bare/orders');
    const rawResult = only === 'ours' ? ours.result : await run(raw, '/raw');
    await bare.close();
    return [
      loadRow(`ours (${kind})`, ours.result),
      loadRow(`ours + events/outbox (${kind})`, withEvents?.result ?? ours.result),
      loadRow(`bare Nest INSERT (${kind})`, bareResult),
      loadRow('raw node:http', rawResult),
    ];
  } finally {
    await ours.app.close();
    await ours.db.cleanup();
  }
}

async function main(): Promise<void> {
  const rawServer: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => rawServer.listen(0, '127.0.0.1', () => r()));
  const raw = `http://127.0.0.1:${(rawServer.address() as { port: number }).port}`;

  const which = args.get('db') ?? 'both';
  const kinds: TestDatabaseKind[] = which === 'both' ? ['sqlite', 'postgres'] : [which as TestDatabaseKind];
  console.log(`bench/webhooks: ${CONNECTIONS} connections, ${DURATION}s per endpoint, ${ORDERS} orders, node ${process.version}`);
  for (const kind of kinds) {
    if (kind === 'postgres' && !(await postgresAnswers())) {
      console.log('  PostgreSQL does not answer: skipped');
      continue;
    }
    const [ours, withEvents, bare, rawRow] = await benchOn(kind, raw);
    console.table([ours, withEvents, bare, rawRow].map((r) => ({ endpoint: r.name, 'req/s': Math.round(r.rps), 'p50 ms': r.p50, 'p99 ms': r.p99, non2xx: r.non2xx, errors: r.errors })));
    console.log(
      `  [${kind}] throughput ours/bare = ${(ours.rps / bare.rps).toFixed(2)}x (goal ≥ 1.0x), ` +
        `p99 ours/bare = ${(ours.p99 / Math.max(bare.p99, 1)).toFixed(2)}x (goal ≤ 1.5x), ` +
        `ours/raw node:http = ${(ours.rps / rawRow.rps).toFixed(3)}x (goal ≥ 0.1x)`,
    );
    console.log(
      `  [${kind}] with events (outbox): throughput ${(withEvents.rps / ours.rps).toFixed(2)}x of ours without, ${(withEvents.rps / bare.rps).toFixed(2)}x of bare; ` +
        `p99 ${(withEvents.p99 / Math.max(ours.p99, 1)).toFixed(2)}x of ours without`,
    );
  }
  rawServer.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
