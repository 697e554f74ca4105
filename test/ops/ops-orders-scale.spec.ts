import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { runFulfilmentMigrations } from 'nestjs-fulfilment';
import { FulfilmentEventBus } from '../../libs/fulfilment/src/orders/fulfilment-event-bus.js';
import { OrderStore, type OrderListQuery } from '../../libs/fulfilment/src/orders/order-store.js';
import { createTestDatabase, testDatabaseKind, type TestDatabase } from '../support/test-database.js';

const ORDERS = 1_000_000;
const PAGE = 50;
/** Rows any scan of a page may read: the page and what an index condition cannot skip, never the table. */
const MAX_ROWS_READ = 20 * (PAGE + 1);

interface Statement {
  text: string;
  values: unknown[];
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];
const SCANS = new Set(['Seq Scan', 'Index Scan', 'Index Only Scan', 'Bitmap Index Scan', 'Bitmap Heap Scan']);

const postgres = testDatabaseKind() === 'postgres';
if (!postgres) {
  // The plans that matter are PostgreSQL's, at a size SQLite in a test run is not used for.
  // Straight to stderr: Jest shows no console output of a suite whose tests are all skipped.
  process.stderr.write('ops-orders-scale.spec.ts skipped: it runs on PostgreSQL only (FULFILMENT_TEST_DB=postgres)\n');
}

(postgres ? describe : describe.skip)('ops console reads on 1,000,000 orders (PostgreSQL)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let store: OrderStore;
  const statements: Statement[] = [];
  const timings: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    ds = new DataSource({ ...(db.options as DataSourceOptions), migrationsRun: false });
    await ds.initialize();
    await runFulfilmentMigrations(ds);
    // 80 % delivered, then in transit, accepted, cancelled, unknown (no provider id), created; one order a second back from now.
    await ds.query(`
      INSERT INTO fulfilment_orders (id, provider, provider_order_id, idempotency_key, host_reference, status, provider_status, version, next_sync_at, sync_failures, created_at, updated_at)
      SELECT id, provider, CASE WHEN status = 'unknown' THEN NULL ELSE 'p-' || g END, 'k-' || g, 'checkout-' || g, status, status, 0,
             CASE WHEN status IN ('in_transit', 'accepted', 'created') THEN now() - (g % 3600) * interval '1 second' END, 0,
             now() - g * interval '1 second', now() - g * interval '1 second' + (g % 600) * interval '1 second'
      FROM (SELECT g, md5(g::text)::uuid::text AS id, CASE WHEN g % 2 = 0 THEN 'caryrx' ELSE 'scriptdrop' END AS provider,
                   CASE WHEN g % 100 < 80 THEN 'delivered' WHEN g % 100 < 90 THEN 'in_transit' WHEN g % 100 < 95 THEN 'accepted'
                        WHEN g % 100 < 98 THEN 'cancelled' WHEN g % 100 < 99 THEN 'unknown' ELSE 'created' END AS status
            FROM generate_series(1, ${ORDERS}) g) s`);
    await ds.query(`
      INSERT INTO fulfilment_webhook_inbox (dedup_key, provider, topic, entity_id, provider_status, provider_timestamp, payload, outcome, received_at)
      SELECT 'caryrx.order:p-' || g, 'caryrx', 'caryrx.order', 'p-' || g, 'shipped', now(), '{}',
             CASE WHEN g % 50 = 0 THEN 'failed' WHEN g % 10 = 0 THEN 'stale' ELSE 'applied' END, now() - g * interval '1 second'
      FROM generate_series(1, 200000) g`);
    // A history row per order for the first 200,000 (enough for the planner to take the table for what it is).
    await ds.query(`
      INSERT INTO fulfilment_order_status_history (id, order_id, from_status, to_status, source, created_at)
      SELECT md5('h' || g)::uuid::text, md5(g::text)::uuid::text, NULL, 'created', 'create', now() - g * interval '1 second'
      FROM generate_series(1, 200000) g`);
    // What autovacuum does to a table this size soon after a bulk load: statistics and the visibility map.
    await ds.query('VACUUM ANALYZE fulfilment_orders');
    await ds.query('VACUUM ANALYZE fulfilment_webhook_inbox');
    await ds.query('VACUUM ANALYZE fulfilment_order_status_history');
    // Every statement the store sends, as sent (text and values), through the clients it checks out.
    // Pooled clients come back: each is wrapped once.
    const wrapped = new WeakSet<object>();
    const createQueryRunner = ds.createQueryRunner.bind(ds);
    ds.createQueryRunner = (mode) => {
      const runner = createQueryRunner(mode);
      const connect = runner.connect.bind(runner);
      runner.connect = async () => {
        const client = await connect();
        if (wrapped.has(client)) return client;
        wrapped.add(client);
        const query = client.query.bind(client);
        // The store sends { text, values, name }; TypeORM's own calls (and this test's EXPLAINs) send strings.
        client.query = (...args: unknown[]) => {
          const config = args[0] as Statement | string;
          if (typeof config === 'object') statements.push({ text: config.text, values: config.values });
          return (query as (...a: unknown[]) => unknown)(...args);
        };
        return client;
      };
      return runner;
    };
    store = new OrderStore(ds, { syncIntervalMs: 30_000 }, FulfilmentEventBus.over(new EventEmitter2()));
  }, 600_000);

  afterAll(async () => {
    if (timings.length) console.log(`ops console reads on ${ORDERS.toLocaleString('en')} orders (one run each, not asserted):\n  ${timings.join('\n  ')}`);
    await ds?.destroy();
    await db?.cleanup();
  });

  /** Runs `read` once, expecting exactly `count` statements, and returns each with its EXPLAIN ANALYZE plan. */
  async function traced<T>(name: string, count: number, read: () => Promise<T>): Promise<{ result: T; plans: PlanNode[] }> {
    statements.length = 0;
    const started = process.hrtime.bigint();
    const result = await read();
    timings.push(`${name}: ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)} ms`);
    expect(statements).toHaveLength(count);
    const plans: PlanNode[] = [];
    for (const { text, values } of [...statements]) {
      const [row] = await ds.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
      const [explained] = row['QUERY PLAN'] as Array<{ Plan: PlanNode; 'Execution Time': number }>;
      plans.push(explained.Plan);
      timings.push(`  server time under EXPLAIN ANALYZE: ${explained['Execution Time'].toFixed(1)} ms (${nodesOf(explained.Plan).map((n) => n['Index Name'] ?? n['Node Type']).join(' > ')})`);
    }
    return { result, plans };
  }

  /** No sequential scan; an index of the console (or the primary key); no scan reads more than a bounded number of rows. */
  function expectIndexed(plan: PlanNode, indexes: string[]): void {
    const nodes = nodesOf(plan);
    expect(nodes.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
    expect(nodes.map((n) => n['Index Name']).filter((i) => i !== undefined)).toEqual(expect.arrayContaining(indexes));
    for (const scan of nodes.filter((n) => SCANS.has(n['Node Type']))) {
      expect((scan['Actual Rows'] ?? 0) * (scan['Actual Loops'] ?? 1) + (scan['Rows Removed by Filter'] ?? 0)).toBeLessThanOrEqual(MAX_ROWS_READ);
    }
  }

  const page = (query: Partial<OrderListQuery>) => store.listOrders({ providers: ['caryrx', 'scriptdrop'], limit: PAGE, ...query });

  it('the first page and its next page: one statement each, newest first through ix_fulfilment_orders_created', async () => {
    const first = await traced('orders, first page', 1, () => page({}));
    expect(first.result.orders).toHaveLength(PAGE);
    expectIndexed(first.plans[0], ['ix_fulfilment_orders_created']);
    const second = await traced('orders, second page (keyset)', 1, () => page({ after: first.result.next! }));
    expect(second.result.orders).toHaveLength(PAGE);
    expect(second.result.orders[0].createdAt.getTime()).toBeLessThanOrEqual(first.result.orders[PAGE - 1].createdAt.getTime());
    expectIndexed(second.plans[0], ['ix_fulfilment_orders_created']);
  });

  it.each([
    ['provider', { provider: 'scriptdrop' as const }, 'ix_fulfilment_orders_provider_created'],
    ['status', { status: 'in_transit' as const }, 'ix_fulfilment_orders_status_created'],
    ['unknown', { status: 'unknown' as const }, 'ix_fulfilment_orders_status_created'],
    ['provider and status', { provider: 'caryrx' as const, status: 'accepted' as const }, 'ix_fulfilment_orders_status_created'],
  ])('filtered by %s: one statement, through an index', async (name, filter, index) => {
    const first = await traced(`orders by ${name}, first page`, 1, () => page(filter));
    expect(first.result.orders).toHaveLength(PAGE);
    for (const o of first.result.orders) expect(o).toMatchObject(filter);
    expectIndexed(first.plans[0], [index]);
    const second = await traced(`orders by ${name}, second page`, 1, () => page({ ...filter, after: first.result.next! }));
    expect(second.result.orders).toHaveLength(PAGE);
    expectIndexed(second.plans[0], [index]);
  });

  it('stuck orders: open and unchanged for an hour, longest first, through the partial index', async () => {
    const first = await traced('stuck orders, first page', 1, () => page({ stuckBefore: new Date(Date.now() - 3600_000) }));
    expect(first.result.orders).toHaveLength(PAGE);
    for (const o of first.result.orders) expect(['in_transit', 'accepted', 'unknown', 'created']).toContain(o.status);
    expectIndexed(first.plans[0], ['ix_fulfilment_orders_open_updated']);
    const second = await traced('stuck orders, second page', 1, () => page({ stuckBefore: new Date(Date.now() - 3600_000), after: first.result.next! }));
    expectIndexed(second.plans[0], ['ix_fulfilment_orders_open_updated']);
  });

  it.each([
    ['host reference', 'checkout-777777'],
    ['provider id', 'p-777777'],
    ['local id', 'md5'],
  ])('search by %s: one statement, index lookups only', async (name, text) => {
    const search = text === 'md5' ? ((await ds.query(`SELECT md5('777777')::uuid::text AS id`)) as Array<{ id: string }>)[0].id : text;
    const { result, plans } = await traced(`search by ${name}`, 1, () => page({ search }));
    expect(result.orders).toHaveLength(1);
    expectIndexed(plans[0], []);
    expect(nodesOf(plans[0]).some((n) => n['Index Name'] !== undefined)).toBe(true);
  });

  it('the webhook inbox by outcome: one statement, through ix_fulfilment_inbox_outcome_received', async () => {
    const first = await traced('inbox failed, first page', 1, () => store.listInbox({ outcome: 'failed', limit: PAGE }));
    expect(first.result.events).toHaveLength(PAGE);
    expectIndexed(first.plans[0], ['ix_fulfilment_inbox_outcome_received']);
    const second = await traced('inbox failed, second page', 1, () => store.listInbox({ outcome: 'failed', after: first.result.next!, limit: PAGE }));
    expectIndexed(second.plans[0], ['ix_fulfilment_inbox_outcome_received']);
  });

  it('the sync backlog: three statements through the due index, counts capped, leases found', async () => {
    const now = new Date();
    await ds.query(`UPDATE fulfilment_orders SET sync_lease_owner = 'replica-a', sync_lease_until = now() + interval '1 minute' WHERE id IN (SELECT id FROM fulfilment_orders WHERE next_sync_at IS NOT NULL ORDER BY next_sync_at LIMIT 40)`);
    const { result, plans } = await traced('sync backlog', 3, () => store.syncBacklog(now, new Date(now.getTime() - 90_000), 1_000));
    expect(result).toMatchObject({ due: 1_000, overdue: 1_000, capped: true, leases: [{ owner: 'replica-a', orders: 40 }] });
    for (const plan of plans) expectIndexed(plan, ['ix_fulfilment_orders_due']);
  });

  it('an order\'s page: the order, its history and its events, each by index', async () => {
    const [{ id }] = (await ds.query(`SELECT md5('2')::uuid::text AS id`)) as Array<{ id: string }>;
    for (const [name, read] of [
      ['order by id', () => store.getOrder(id)],
      ['order history', () => store.history(id)],
      ['order events', () => store.inboxFor(['caryrx.order'], 'p-2', 50)],
    ] as const) {
      const { plans } = await traced(name, 1, read as () => Promise<unknown>);
      expectIndexed(plans[0], []);
      expect(nodesOf(plans[0]).some((n) => n['Index Name'] !== undefined)).toBe(true);
    }
  });
});
