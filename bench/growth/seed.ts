/**
 * Seeding for the growth bench and the plans: millions of rows in a few statements
 * (generate_series on PostgreSQL, a recursive CTE on SQLite), never row by row.
 */
import type { DataSource } from 'typeorm';

export interface InboxSeed {
  /** Row numbers from..to (1-based, inclusive), in received order. */
  from: number;
  to: number;
  /** Entity ids cycle over benchOrderId(0…orders-1): the same orders the bench's events name. */
  orders: number;
  /** Row n (1-based) is received `daysAgo` of the first tier with n ≤ upTo, plus n ms: rows are stored in time order. */
  tiers: Array<{ upTo: number; daysAgo: number }>;
}

/** A stored order observation of the size the module writes (ids, statuses, timestamps, tracking). */
const PAYLOAD = JSON.stringify({
  providerStatus: 'shipped',
  providerTimestamp: '2025-06-01T12:00:00.000Z',
  serviceLevel: 'sameday_delivery',
  trackingUrl: 'https://track.example.test/1',
  packagingMethod: 'usps_firstclass',
  samedayLocationX: null,
  samedayLocationY: null,
  eta: null,
});

const INBOX_COLUMNS = 'dedup_key, provider, topic, entity_id, provider_status, provider_timestamp, payload, outcome, error, received_at, processed_at';

/**
 * Inbox rows as the module writes them for order events of the bench's orders, older than any
 * event the bench posts. The secondary indexes are dropped while the rows go in and built again
 * from their own definitions afterwards (a sort instead of millions of random inserts).
 */
export async function seedInbox(ds: DataSource, seed: InboxSeed): Promise<void> {
  const postgres = ds.options.type === 'postgres';
  const chunk = postgres ? 500_000 : 1_000_000;
  await withoutSecondaryIndexes(ds, 'fulfilment_webhook_inbox', async () => {
    for (let from = seed.from; from <= seed.to; from += chunk) {
      const to = Math.min(seed.to, from + chunk - 1);
      await ds.query(postgres ? pgInbox(seed, from, to) : sqliteInbox(seed, from, to));
    }
  });
}

export async function withoutSecondaryIndexes(ds: DataSource, table: string, work: () => Promise<void>): Promise<void> {
  const indexes: Array<{ name: string; definition: string }> =
    ds.options.type === 'postgres'
      ? await ds.query(
          `SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1
             AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = $1::regclass)`,
          [table],
        )
      : await ds.query(`SELECT name, sql AS definition FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`, [table]);
  for (const index of indexes) await ds.query(`DROP INDEX ${index.name}`);
  try {
    await work();
  } finally {
    for (const index of indexes) await ds.query(index.definition);
  }
}

function tierCase(seed: InboxSeed, n: string): string {
  return `CASE ${seed.tiers.map((t) => `WHEN ${n} <= ${t.upTo} THEN ${t.daysAgo}`).join(' ')} ELSE 0 END`;
}

function pgInbox(seed: InboxSeed, from: number, to: number): string {
  const entity = `'bo' || lpad((g % ${seed.orders})::text, 8, '0')`;
  return `INSERT INTO fulfilment_webhook_inbox (${INBOX_COLUMNS})
    SELECT 'caryrx.order:' || e || ':' || to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ':shipped',
      'caryrx', 'caryrx.order', e, 'shipped', t, '${PAYLOAD}', 'applied', NULL, t, t
    FROM (SELECT ${entity} AS e, now() - (${tierCase(seed, 'g')}) * interval '1 day' + g * interval '1 millisecond' AS t
          FROM generate_series(${from}, ${to}) g) x`;
}

function sqliteInbox(seed: InboxSeed, from: number, to: number): string {
  const entity = `'bo' || substr('0000000' || (n % ${seed.orders}), -8, 8)`;
  return `WITH RECURSIVE s(n) AS (SELECT ${from} UNION ALL SELECT n + 1 FROM s WHERE n < ${to}),
    x AS (SELECT ${entity} AS e, julianday('now') - (${tierCase(seed, 'n')}) + n / 86400000.0 AS jd FROM s)
    INSERT INTO fulfilment_webhook_inbox (${INBOX_COLUMNS})
    SELECT 'caryrx.order:' || e || ':' || strftime('%Y-%m-%dT%H:%M:%fZ', jd) || ':shipped',
      'caryrx', 'caryrx.order', e, 'shipped', strftime('%Y-%m-%d %H:%M:%f', jd), '${PAYLOAD}', 'applied', NULL,
      strftime('%Y-%m-%d %H:%M:%f', jd), strftime('%Y-%m-%d %H:%M:%f', jd)
    FROM x`;
}

/** Bytes per row of each module table, indexes included (PostgreSQL: relation sizes; SQLite: dbstat). */
export async function bytesPerRow(ds: DataSource, tables: string[]): Promise<Record<string, { rows: number; bytes: number; perRow: number }>> {
  const out: Record<string, { rows: number; bytes: number; perRow: number }> = {};
  for (const table of tables) {
    const [{ n }] = await ds.query(`SELECT COUNT(*) AS n FROM ${table}`);
    const [{ bytes }] =
      ds.options.type === 'postgres'
        ? await ds.query(`SELECT pg_total_relation_size('${table}') AS bytes`)
        : await ds.query(`SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name = '${table}')`);
    out[table] = { rows: Number(n), bytes: Number(bytes), perRow: Number(n) > 0 ? Math.round(Number(bytes) / Number(n)) : 0 };
  }
  return out;
}
