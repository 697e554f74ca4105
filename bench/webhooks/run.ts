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
import type { INestApplication } from '@nestjs/common';
import { DataSource, type DataSourceOptions } from 'typeorm';
import autocannon, { type AutocannonResult } from 'autocannon';
import { FulfilmentEvents, FulfilmentModule, FulfilmentOrder } from 'nestjs-fulfilment';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { createTestDatabase, type TestDatabase, type TestDatabaseKind } from '../../test/support/test-database.js';

const args = new Map<string, string>();
process.argv.slice(2).forEach((arg, i, all) => {
  if (arg.startsWith('--')) args.set(arg.slice(2), all[i + 1] ?? '');
});
const DURATION = Number(args.get('duration') ?? 10);
const CONNECTIONS = Number(args.get('connections') ?? 16);
const ORDERS = Number(args.get('orders') ?? 40_000);
const SECRET = 'bench-webhook-secret-0123456789';
/** CaryRx order statuses after `pending`, in order: each round of events moves every order one step. */
const STEPS = ['ready_to_fill', 'filled', 'shipped', 'out_for_delivery', 'delivered'];

const orderId = (i: number) => `bo${String(i).padStart(8, '0')}`;

/** The order event CaryRx would post, shaped as in its document. */
function orderEvent(seq: number): string {
  const order = seq % ORDERS;
  const step = Math.floor(seq / ORDERS) % STEPS.length;
  return JSON.stringify({
    id: orderId(order),
    shipping_method: 'sameday_delivery',
    packaging_method: 'usps_firstclass',
    order_status: STEPS[step],
    updated_at: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    shipment_tracking_url: 'https://track.example.test/1',
    prescriptions: [{ entity_type: 'prescription', id: 'rx00000001', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }],
    patient: { entity_type: 'patient', id: 'pt00000001', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' },
  });
}

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

async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
}

async function load(url: string, path: string, body: (seq: number) => string): Promise<AutocannonResult> {
  let seq = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: body(seq++) }),
      },
    ],
  });
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}
const row = (name: string, r: AutocannonResult): Row => ({
  name,
  rps: r.requests.average,
  p50: r.latency.p50,
  p99: r.latency.p99,
  non2xx: r.non2xx,
  errors: r.errors + r.timeouts,
});

async function seedOrders(ds: DataSource): Promise<void> {
  const now = new Date();
  const rows: Partial<FulfilmentOrder>[] = [];
  for (let i = 0; i < ORDERS; i++) {
    rows.push({
      id: randomUUID(),
      provider: 'caryrx',
      providerOrderId: orderId(i),
      idempotencyKey: `bench-${i}`,
      status: 'accepted',
      providerStatus: 'pending',
      serviceLevel: 'sameday_delivery',
      version: 0,
      syncFailures: 0,
      createdAt: now,
      updatedAt: now,
    });
  }
  for (let i = 0; i < rows.length; i += 500) await ds.manager.insert(FulfilmentOrder, rows.slice(i, i + 500));
}

/**
 * The module's webhook route on a fresh database of `kind`. With `events`, the host has
 * EventEmitter and a listener: every change also writes its outbox row and is delivered and marked.
 */
async function benchOurs(kind: TestDatabaseKind, events: boolean): Promise<{ result: AutocannonResult; db: TestDatabase; app: INestApplication; url: string }> {
  const db: TestDatabase = await createTestDatabase(kind);
  let delivered = 0;
  @Module({
    imports: [
      TypeOrmModule.forRoot(db.options),
      ...(events ? [EventEmitterModule.forRoot()] : []),
      FulfilmentModule.forRoot({
        caryrx: { baseUrl: 'http://127.0.0.1:9', apiKey: 'bench-key', environment: 'development' },
        webhooks: { secret: SECRET },
        sync: { enabled: false },
      }),
    ],
  })
  class OursModule {}
  const app = await NestFactory.create(OursModule, { logger: ['error'] });
  if (events) app.get(EventEmitter2).on(FulfilmentEvents.OrderStatusChanged, () => void delivered++);
  const url = await listen(app);
  const ds = app.get(DataSource);
  await seedOrders(ds);
  const result = await load(url, `/fulfilment/webhooks/caryrx/orders?token=${SECRET}`, orderEvent);
  const history = await ds.query('SELECT COUNT(*) AS n FROM fulfilment_order_status_history');
  const inbox = await ds.query('SELECT COUNT(*) AS n FROM fulfilment_webhook_inbox');
  const outbox = events ? (await ds.query('SELECT COUNT(*) AS n FROM fulfilment_outbox WHERE delivered_at IS NOT NULL'))[0].n : 'no';
  console.log(`  [${kind}${events ? ', events' : ''}] ours stored ${inbox[0].n} inbox rows, ${history[0].n} history rows, ${outbox} delivered outbox rows (${delivered} events heard) for ${result['2xx']} 2xx answers`);
  return { result, db, app, url };
}

async function benchOn(kind: TestDatabaseKind, raw: string): Promise<Row[]> {
  // Ours first, without and with the host's EventEmitter (outbox), each on a database of its own.
  const ours = await benchOurs(kind, false);
  const withEvents = args.get('only') === 'ours' ? undefined : await benchOurs(kind, true);
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

    // `--only ours` measures our route alone (for profiling with --cpu-prof).
    const only = args.get('only');
    const bareResult = only === 'ours' ? ours.result : await load(bareUrl, '/bare/orders', orderEvent);
    const rawResult = only === 'ours' ? ours.result : await load(raw, '/raw', orderEvent);
    await bare.close();
    return [
      row(`ours (${kind})`, ours.result),
      row(`ours + events/outbox (${kind})`, withEvents?.result ?? ours.result),
      row(`bare Nest INSERT (${kind})`, bareResult),
      row('raw node:http', rawResult),
    ];
  } finally {
    await ours.app.close();
    await ours.db.cleanup();
  }
}

async function postgresAnswers(): Promise<boolean> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test' });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
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
