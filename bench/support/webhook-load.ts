/**
 * What the webhook benches share: their arguments, the CaryRx order events they post, autocannon
 * runs against a route, the order rows those events apply to, and whether PostgreSQL answers.
 */
import type { INestApplication } from '@nestjs/common';
import autocannon, { type AutocannonResult } from 'autocannon';

/** `--name value` pairs of the command line. */
export function benchArgs(): Map<string, string> {
  const args = new Map<string, string>();
  process.argv.slice(2).forEach((arg, i, all) => {
    if (arg.startsWith('--')) args.set(arg.slice(2), all[i + 1] ?? '');
  });
  return args;
}

export const BENCH_WEBHOOK_SECRET = 'bench-webhook-secret-0123456789';
export const CARYRX_ORDERS_ROUTE = `/fulfilment/webhooks/caryrx/orders?token=${BENCH_WEBHOOK_SECRET}`;
/** CaryRx order statuses after `pending`, in order: each round of events moves every order one step. */
const STEPS = ['ready_to_fill', 'filled', 'shipped', 'out_for_delivery', 'delivered'];

export const benchOrderId = (i: number) => `bo${String(i).padStart(8, '0')}`;

/**
 * The order events CaryRx would post, shaped as in its document, over `orders` orders: event n
 * moves order n % orders one step, so the first 5 × orders events are all real transitions.
 */
export function orderEvents(orders: number): (seq: number) => string {
  return (seq) =>
    JSON.stringify({
      id: benchOrderId(seq % orders),
      shipping_method: 'sameday_delivery',
      packaging_method: 'usps_firstclass',
      order_status: STEPS[Math.floor(seq / orders) % STEPS.length],
      updated_at: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
      shipment_tracking_url: 'https://track.example.test/1',
      prescriptions: [{ entity_type: 'prescription', id: 'rx00000001', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }],
      patient: { entity_type: 'patient', id: 'pt00000001', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' },
    });
}

export async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  return `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
}

/**
 * POSTs bodies from `body(seq)` for `duration` seconds. `next` carries the sequence on from one
 * run to the next, so a run never repeats an earlier event.
 */
export function load(url: string, path: string, body: (seq: number) => string, opts: { connections: number; duration: number; next?: { seq: number } }): Promise<AutocannonResult> {
  const next = opts.next ?? { seq: 0 };
  return autocannon({
    url,
    connections: opts.connections,
    duration: opts.duration,
    requests: [{ method: 'POST', path, headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: body(next.seq++) }) }],
  });
}

export interface LoadRow {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export const loadRow = (name: string, r: AutocannonResult): LoadRow => ({
  name,
  rps: r.requests.average,
  p50: r.latency.p50,
  p99: r.latency.p99,
  non2xx: r.non2xx,
  errors: r.errors + r.timeouts,
});

/** SQL that inserts `count` open CaryRx orders `benchOrderId(0…count-1)` (generate_series / a recursive CTE). */
export function insertBenchOrdersSql(postgres: boolean, count: number): string {
  const n = postgres ? 'g' : 'n';
  const id = postgres ? `'bo' || lpad((g - 1)::text, 8, '0')` : `'bo' || substr('0000000' || (n - 1), -8, 8)`;
  const now = postgres ? 'now()' : `strftime('%Y-%m-%d %H:%M:%f', 'now')`;
  const select = `SELECT ${postgres ? 'gen_random_uuid()::text' : `lower(hex(randomblob(16)))`}, 'caryrx', ${id}, 'bench-' || ${n}, 'accepted', 'pending', 'sameday_delivery', 0, 0, ${now}, ${now}`;
  const columns = 'id, provider, provider_order_id, idempotency_key, status, provider_status, service_level, version, sync_failures, created_at, updated_at';
  return postgres
    ? `INSERT INTO fulfilment_orders (${columns}) ${select} FROM generate_series(1, ${count}) g`
    : `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${count}) INSERT INTO fulfilment_orders (${columns}) ${select} FROM s`;
}

export async function postgresAnswers(): Promise<boolean> {
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
