import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { FulfilmentEvents, type OrderStatusChangedEvent } from 'nestjs-fulfilment';
import { newFulfilmentOrder } from '../../libs/fulfilment/src/orders/entities/fulfilment-order.entity.js';
import { FulfilmentEventBus } from '../../libs/fulfilment/src/orders/fulfilment-event-bus.js';
import { OrderStore } from '../../libs/fulfilment/src/orders/order-store.js';
import { SCRIPTDROP_STATUS_TABLE } from '../../libs/fulfilment/src/scriptdrop/scriptdrop-observation.js';
import { createTestDatabase, postgresUrl, type TestDatabase } from '../support/test-database.js';
import type { OutboxChildConfig } from '../support/outbox-replica-child.js';

const HOOKS = fileURLToPath(new URL('../support/ts-child-hooks.mjs', import.meta.url));
const CHILD = fileURLToPath(new URL('../support/outbox-replica-child.ts', import.meta.url));

/** Runs one replica process on the test database; resolves with its output and how it ended. */
function replica(db: TestDatabase, config: Omit<OutboxChildConfig, 'url' | 'schema'>): Promise<{ lines: string[]; signal: NodeJS.Signals | null; code: number | null }> {
  const options = db.options as { schema?: string; database?: string };
  const full: OutboxChildConfig = { url: db.kind === 'postgres' ? postgresUrl() : `sqlite:${options.database}`, schema: options.schema, ...config };
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', HOOKS, CHILD], { env: { ...process.env, OUTBOX_CHILD: JSON.stringify(full), NODE_OPTIONS: '' }, timeout: 60_000 }, (_err, stdout) =>
      resolve({ lines: stdout.trim().split('\n'), signal: child.signalCode, code: child.exitCode }),
    );
  });
}

const events = (lines: string[]) => lines.filter((l) => l.startsWith('EVENT ')).map((l) => JSON.parse(l.slice(6)) as { eventId: string; orderId: string; status: string });

const waitFor = async (check: () => Promise<boolean>, what: string) => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
};

describe('domain events: transactional outbox, delivered at least once', () => {
  let db: TestDatabase;
  const sources: DataSource[] = [];

  /** A replica inside this process: its own DataSource and store on the test database, and what its listener got. */
  async function storeReplica(listener?: (event: OrderStatusChangedEvent) => unknown) {
    const ds = new DataSource({ ...(db.options as DataSourceOptions), migrationsRun: false });
    await ds.initialize();
    sources.push(ds);
    const emitter = new EventEmitter2();
    const received: OrderStatusChangedEvent[] = [];
    emitter.on(FulfilmentEvents.OrderStatusChanged, (event: OrderStatusChangedEvent) => {
      received.push(event);
      return listener?.(event);
    });
    const store = new OrderStore(ds, { syncIntervalMs: 1000, events: { leaseMs: 1000, maxFailures: 3 } }, FulfilmentEventBus.over(emitter));
    return { ds, store, received };
  }

  const outbox = (ds: DataSource) =>
    ds.query('SELECT id, name, payload, delivered_at, lease_owner, failures, last_error FROM fulfilment_outbox ORDER BY id') as Promise<
      Array<{ id: string; name: string; payload: string; delivered_at: unknown; lease_owner: string | null; failures: number; last_error: string | null }>
    >;

  beforeAll(async () => {
    db = await createTestDatabase();
    const ds = new DataSource(db.options as DataSourceOptions);
    await ds.initialize(); // runs the migrations once
    await ds.destroy();
  });
  afterAll(async () => {
    for (const ds of sources) if (ds.isInitialized) await ds.destroy();
    await db?.cleanup();
  });

  it('writes each event with its change and marks it delivered once the listeners ran; the listener gets its eventId', async () => {
    const { ds, store, received } = await storeReplica();
    const { order } = await store.placeOrder(newFulfilmentOrder({ provider: 'scriptdrop', idempotencyKey: 'outbox-1', status: 'created', providerOrderId: 'sd-outbox-1' }));
    await store.observe('scriptdrop', 'sd-outbox-1', { statuses: SCRIPTDROP_STATUS_TABLE, providerStatus: 'new', providerTimestamp: new Date() }, 'sync');
    expect(received.map((e) => [e.orderId, e.status])).toEqual([
      [order.id, 'created'],
      [order.id, 'accepted'],
    ]);
    await store.flushDeliveries();
    const rows = (await outbox(ds)).filter((r) => JSON.parse(r.payload).orderId === order.id);
    expect(rows.map((r) => r.id)).toEqual(received.map((e) => e.eventId));
    expect(rows.every((r) => r.delivered_at !== null && r.lease_owner === null)).toBe(true);
    expect(JSON.parse(rows[1].payload)).toMatchObject({ eventId: rows[1].id, orderId: order.id, previousStatus: 'created', status: 'accepted', source: 'sync' });
  });

  it('a listener that throws leaves the event undelivered; it is delivered again with the same eventId until the listener succeeds', async () => {
    let failuresLeft = 2;
    const { ds, store, received } = await storeReplica(() => {
      if (failuresLeft-- > 0) throw new Error('listener down');
    });
    const { order } = await store.placeOrder(newFulfilmentOrder({ provider: 'scriptdrop', idempotencyKey: 'outbox-2', status: 'created' }));
    await store.flushDeliveries();
    const [row] = (await outbox(ds)).filter((r) => JSON.parse(r.payload).orderId === order.id);
    expect(row).toMatchObject({ delivered_at: null, failures: 1 });
    expect(row.last_error).toMatch(/listener down/);
    // Backed off (1 s, then 2 s): redelivered by whichever pass comes after the back-off.
    await waitFor(async () => (await store.redeliverPending(), (await outbox(ds)).find((r) => r.id === row.id)!.delivered_at !== null), 'the redelivery');
    const mine = received.filter((e) => e.orderId === order.id);
    expect(mine).toHaveLength(3);
    expect(new Set(mine.map((e) => e.eventId))).toEqual(new Set([row.id]));
    expect(mine[2].occurredAt).toBeInstanceOf(Date);
  });

  it('an event whose replica died by SIGKILL after the commit is delivered exactly once more, with the same eventId, after a restart', async () => {
    const killed = await replica(db, { placeAndDie: 'outbox-killed' });
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.lines).not.toContain('NOT KILLED');
    const [first] = events(killed.lines);
    expect(first).toMatchObject({ status: 'created' });

    const { ds } = await storeReplica();
    const [pending] = (await outbox(ds)).filter((r) => r.id === first.eventId);
    expect(pending).toMatchObject({ delivered_at: null });

    // Restarted: its relay delivers what the dead replica left, once its lease (1 s) ended.
    const restarted = await replica(db, { stayMs: 3000 });
    expect(restarted.code).toBe(0);
    expect(events(restarted.lines).filter((e) => e.orderId === first.orderId)).toEqual([first]);
    const [after] = (await outbox(ds)).filter((r) => r.id === first.eventId);
    expect(after.delivered_at).not.toBeNull();
  });

  it('two replicas redelivering at once never both deliver one row', async () => {
    const a = await storeReplica();
    const b = await storeReplica();
    // 300 events left undelivered by a replica that is gone (lease ended).
    const { store: writer, ds } = await storeReplica(() => {
      throw new Error('the writer never delivers');
    });
    for (let i = 0; i < 150; i++) {
      await writer.placeOrder(newFulfilmentOrder({ provider: 'scriptdrop', idempotencyKey: `outbox-many-${i}`, status: 'created', providerOrderId: `sd-many-${i}` }));
      await writer.observe('scriptdrop', `sd-many-${i}`, { statuses: SCRIPTDROP_STATUS_TABLE, providerStatus: 'new', providerTimestamp: new Date() }, 'sync');
    }
    await writer.flushDeliveries();
    await ds.query(`UPDATE fulfilment_outbox SET lease_until = NULL, failures = 0 WHERE delivered_at IS NULL`);
    const pending = (await outbox(ds)).filter((r) => r.delivered_at === null).map((r) => r.id);
    expect(pending.length).toBeGreaterThanOrEqual(300);

    const drain = async (store: OrderStore) => {
      while ((await store.redeliverPending(20)) > 0);
    };
    await Promise.all([drain(a.store), drain(b.store), drain(a.store), drain(b.store)]);
    const got = [...a.received, ...b.received].map((e) => e.eventId).filter((id) => pending.includes(id));
    expect(got.sort()).toEqual([...pending].sort());
    expect(a.received.length).toBeGreaterThan(0);
    expect(b.received.length).toBeGreaterThan(0);
    expect((await outbox(ds)).filter((r) => r.delivered_at === null)).toEqual([]);
  });

  it('events of one order are redelivered in the order they were written', async () => {
    const { store: writer, ds } = await storeReplica(() => {
      throw new Error('not now');
    });
    await writer.placeOrder(newFulfilmentOrder({ provider: 'scriptdrop', idempotencyKey: 'outbox-order', status: 'created', providerOrderId: 'sd-order' }));
    for (const [status, at] of [['new', 1], ['submitted to courier', 2], ['picked_up', 3], ['delivered', 4]] as const) {
      await writer.observe('scriptdrop', 'sd-order', { statuses: SCRIPTDROP_STATUS_TABLE, providerStatus: status, providerTimestamp: new Date(Date.UTC(2026, 0, 1, 10, at)) }, 'sync');
    }
    await writer.flushDeliveries();
    await ds.query(`UPDATE fulfilment_outbox SET lease_until = NULL, failures = 0 WHERE delivered_at IS NULL`);
    const reader = await storeReplica();
    while ((await reader.store.redeliverPending(2)) > 0);
    expect(reader.received.filter((e) => e.providerOrderId === 'sd-order').map((e) => e.providerStatus ?? e.status)).toEqual(['created', 'new', 'submitted to courier', 'picked_up', 'delivered']);
  });
});
