/**
 * bench/growth/plans: the plan of every query the module runs on a hot path, on PostgreSQL with
 * 5,000,000 inbox rows, 1,000,000 orders and 3,000,000 history rows; written to bench/growth/PLANS.md.
 *
 *   npm run bench:growth:plans [-- --inbox 5000000 --orders 1000000 --out bench/growth/PLANS.md]
 *
 * Each statement is the store's own (order-store.ts), with literal values for its parameters, run
 * under EXPLAIN (ANALYZE, BUFFERS) in a transaction that is rolled back.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { createTestDatabase } from '../../test/support/test-database.js';
import { benchArgs } from '../support/webhook-load.js';
import { bytesPerRow, seedInbox } from './seed.js';

const args = benchArgs();
const INBOX = Number(args.get('inbox') ?? 5_000_000);
const ORDERS = Number(args.get('orders') ?? 1_000_000);
const OUT = args.get('out') ?? 'bench/growth/PLANS.md';
const OPEN_EVERY = 50; // one order in 50 is still open (due for the sync), the rest delivered

const ids = (n: number, from = 12345) => Array.from({ length: n }, (_, i) => `'bo${String((from + i * 7919) % ORDERS).padStart(8, '0')}'`).join(', ');
const keys = (n: number) => Array.from({ length: n }, (_, i) => `'caryrx.order:bo${String((i * 104729) % ORDERS).padStart(8, '0')}:2026-02-01T00:00:00.000Z:shipped'`).join(', ');
const ORDER_COLUMNS = `id, provider, provider_order_id, idempotency_key, host_reference, status, provider_status, service_level, tracking_number, tracking_url, eta, packaging_method,
  sameday_location_x, sameday_location_y, patient_link_id, provider_created_at, provider_updated_at, last_error, version, next_sync_at, sync_lease_owner, sync_lease_until, sync_failures, last_synced_at, created_at, updated_at`;
const TERMINAL = `'delivered', 'delivery_failed', 'returned', 'cancelled', 'not_created'`;

/** The hot-path statements: what each is for, where the store runs it, and its SQL. */
const QUERIES: Array<{ name: string; where: string; sql: string }> = [
  { name: 'Webhook batch: stored dedup keys (8 events)', where: 'OrderStore.inboxLocked', sql: `SELECT dedup_key FROM fulfilment_webhook_inbox WHERE dedup_key IN (${keys(8)})` },
  {
    name: "Webhook batch: the batch's orders, read (optimistic path) or locked",
    where: 'OrderStore.ordersOf',
    sql: `SELECT ${ORDER_COLUMNS} FROM fulfilment_orders WHERE provider = 'caryrx' AND provider_order_id IN (${ids(8)}) ORDER BY id FOR UPDATE`,
  },
  {
    name: 'Webhook batch: the orders that changed, one multi-row update',
    where: 'OrderStore.writeChanges',
    sql: `WITH v (id, status, provider_status, version, updated_at) AS (SELECT id, 'in_transit', 'shipped', version + 1, now() FROM fulfilment_orders WHERE provider = 'caryrx' AND provider_order_id IN (${ids(8)}))
      UPDATE fulfilment_orders AS t SET status = v.status, provider_status = v.provider_status, version = v.version, updated_at = v.updated_at FROM v WHERE t.id = v.id`,
  },
  {
    name: 'Webhook batch: inbox insert (also the duplicate check)',
    where: 'OrderStore.inboxInsert',
    sql: `INSERT INTO fulfilment_webhook_inbox (dedup_key, provider, topic, entity_id, provider_status, provider_timestamp, payload, outcome, error, received_at, processed_at)
      VALUES ('caryrx.order:bo00012345:2026-02-01T00:00:00.000Z:shipped', 'caryrx', 'caryrx.order', 'bo00012345', 'shipped', now(), '{}', 'applied', NULL, now(), now())
      ON CONFLICT DO NOTHING RETURNING dedup_key`,
  },
  {
    name: "Linking an order: its events that arrived first ('unmatched')",
    where: 'OrderStore.applyUnmatched',
    sql: `SELECT dedup_key FROM fulfilment_webhook_inbox WHERE provider = 'caryrx' AND entity_id = 'bo00012345' AND outcome = 'unmatched' ORDER BY provider_timestamp, received_at`,
  },
  {
    name: 'Sync tick: claim due open orders (lease)',
    where: 'OrderStore.claimDue',
    sql: `UPDATE fulfilment_orders SET sync_lease_owner = 'plans', sync_lease_until = now() + interval '1 minute'
      WHERE id = ANY(ARRAY(SELECT id FROM fulfilment_orders WHERE next_sync_at IS NOT NULL AND next_sync_at <= now() AND provider IN ('caryrx', 'scriptdrop')
        AND provider_order_id IS NOT NULL AND status NOT IN (${TERMINAL}) AND (sync_lease_until IS NULL OR sync_lease_until < now())
        ORDER BY next_sync_at LIMIT 200 FOR UPDATE SKIP LOCKED)) RETURNING id`,
  },
  { name: 'Read an order by id', where: 'OrderStore.getOrder', sql: `SELECT ${ORDER_COLUMNS} FROM fulfilment_orders WHERE id = 'o-12345' LIMIT 1` },
  { name: 'Read an order by idempotency key', where: 'OrderStore.getOrderByIdempotencyKey', sql: `SELECT ${ORDER_COLUMNS} FROM fulfilment_orders WHERE idempotency_key = 'k-12345' LIMIT 1` },
  { name: "An order's status history", where: 'OrderStore.history', sql: `SELECT * FROM fulfilment_order_status_history WHERE order_id = 'o-12345' ORDER BY created_at` },
  {
    name: 'Retention: one batch of old inbox rows',
    where: 'OrderStore.pruneBatch (inbox)',
    sql: `DELETE FROM fulfilment_webhook_inbox WHERE ctid = ANY(ARRAY(SELECT t.ctid FROM fulfilment_webhook_inbox t WHERE t.received_at < now() - interval '35 days'
      ORDER BY t.received_at LIMIT 500 FOR UPDATE OF t SKIP LOCKED)) RETURNING received_at`,
  },
  {
    name: 'Retention: one batch of history of orders terminal for 90 days',
    where: 'OrderStore.pruneBatch (terminalHistory)',
    sql: `DELETE FROM fulfilment_order_status_history WHERE ctid = ANY(ARRAY(SELECT t.ctid FROM fulfilment_order_status_history t WHERE t.created_at < now() - interval '90 days'
      AND EXISTS (SELECT 1 FROM fulfilment_orders o WHERE o.id = t.order_id AND o.status IN (${TERMINAL}) AND o.updated_at < now() - interval '90 days')
      ORDER BY t.created_at LIMIT 500 FOR UPDATE OF t SKIP LOCKED)) RETURNING created_at`,
  },
  {
    name: 'Retention: claim the job lease',
    where: 'OrderStore.claimJobLease',
    sql: `INSERT INTO fulfilment_job_leases AS l (name, owner, lease_until) VALUES ('retention', 'plans', now() + interval '2 minutes')
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until WHERE l.lease_until < now() OR l.owner = excluded.owner RETURNING owner`,
  },
];

async function main(): Promise<void> {
  const db = await createTestDatabase('postgres');
  const ds = new DataSource(db.options as DataSourceOptions);
  await ds.initialize();
  try {
    const started = performance.now();
    // Orders o-1 … o-N (bo ids 0-based), created 100 to 400 days ago; one in OPEN_EVERY still open.
    await ds.query(`INSERT INTO fulfilment_orders (${ORDER_COLUMNS.replace(/\s+/g, ' ')})
      SELECT 'o-' || g, 'caryrx', 'bo' || lpad((g - 1)::text, 8, '0'), 'k-' || g, NULL,
        CASE WHEN g % ${OPEN_EVERY} = 0 THEN 'in_transit' ELSE 'delivered' END, CASE WHEN g % ${OPEN_EVERY} = 0 THEN 'shipped' ELSE 'delivered' END,
        'sameday_delivery', NULL, 'https://track.example.test/1', NULL, 'usps_firstclass', NULL, NULL, NULL, c, c + interval '2 days', NULL, 3,
        CASE WHEN g % ${OPEN_EVERY} = 0 THEN now() - interval '1 minute' + (g % 600) * interval '1 second' END, NULL, NULL, 0, NULL, c, c + interval '2 days'
      FROM (SELECT g, now() - interval '400 days' + g * (interval '300 days' / ${ORDERS}) AS c FROM generate_series(1, ${ORDERS}) g) x`);
    // Three history rows per order.
    await ds.query(`INSERT INTO fulfilment_order_status_history (id, order_id, from_status, to_status, from_provider_status, to_provider_status, source, provider_timestamp, created_at)
      SELECT gen_random_uuid()::text, 'o-' || g, f, t, NULL, NULL, 'webhook', NULL, now() - interval '400 days' + g * (interval '300 days' / ${ORDERS}) + s * interval '1 day'
      FROM generate_series(1, ${ORDERS}) g, (VALUES (0, NULL, 'created'), (1, 'created', 'accepted'), (2, 'accepted', 'delivered')) AS v(s, f, t)`);
    // The inbox: a fifth older than the 35-day window, the rest within it.
    await seedInbox(ds, { from: 1, to: INBOX, orders: ORDERS, tiers: [{ upTo: Math.floor(INBOX / 5), daysAgo: 60 }, { upTo: INBOX, daysAgo: 30 }] });
    await ds.query('VACUUM ANALYZE');
    const seededS = (performance.now() - started) / 1000;
    const tables = ['fulfilment_webhook_inbox', 'fulfilment_orders', 'fulfilment_order_status_history'];
    const sizes = await bytesPerRow(ds, tables);

    const sections: string[] = [];
    for (const q of QUERIES) {
      const runner = ds.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      try {
        const plan = (await runner.query(`EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`)) as Array<{ 'QUERY PLAN': string }>;
        sections.push(`## ${q.name}\n\n\`${q.where}\`\n\n\`\`\`sql\n${q.sql.replace(/\n\s+/g, '\n  ')}\n\`\`\`\n\n\`\`\`\n${plan.map((r) => r['QUERY PLAN']).join('\n')}\n\`\`\``);
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
    }
    const [{ version }] = await ds.query('SELECT version()');
    const text = `# Hot-path query plans at scale

Produced by \`npm run bench:growth:plans\` (bench/growth/plans.ts); do not edit by hand.
${String(version).split(',')[0]}, ${INBOX.toLocaleString()} inbox rows, ${ORDERS.toLocaleString()} orders (one in ${OPEN_EVERY} open),
${sizes.fulfilment_order_status_history.rows.toLocaleString()} history rows; seeded in ${seededS.toFixed(0)} s, then \`VACUUM ANALYZE\`.
Each statement ran under \`EXPLAIN (ANALYZE, BUFFERS)\` in a transaction rolled back afterwards.

| table | rows | bytes, indexes included | bytes per row |
| --- | --- | --- | --- |
${tables.map((t) => `| ${t} | ${sizes[t].rows.toLocaleString()} | ${sizes[t].bytes.toLocaleString()} | ${sizes[t].perRow} |`).join('\n')}

${sections.join('\n\n')}
`;
    writeFileSync(OUT, text);
    console.log(`wrote ${OUT} (${QUERIES.length} plans; seeded in ${seededS.toFixed(0)} s)`);
  } finally {
    await ds.destroy();
    await db.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
