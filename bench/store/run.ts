/**
 * bench/store: the store's share of webhook ingestion alone, without HTTP: batches of CaryRx order
 * events through OrderStore.recordInbox on SQLite and PostgreSQL, as µs per event. For profiling
 * (`node --cpu-prof`), not a goal of its own.
 *
 *   npm run bench:store [-- --batches 2000 --size 8 --db sqlite|postgres|both]
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { FULFILMENT_ENTITIES, FulfilmentOrder, WebhookInboxEvent } from '../../libs/fulfilment/src/orders/entities/index.js';
import { FULFILMENT_MIGRATIONS } from '../../libs/fulfilment/src/migrations/index.js';
import { OrderStore } from '../../libs/fulfilment/src/orders/order-store.js';
import { FulfilmentEventBus } from '../../libs/fulfilment/src/orders/fulfilment-event-bus.js';
import { caryRxObservation } from '../../libs/fulfilment/src/caryrx/caryrx-observation.js';
import { createTestDatabase, type TestDatabaseKind } from '../../test/support/test-database.js';

const args = new Map<string, string>();
process.argv.slice(2).forEach((arg, i, all) => {
  if (arg.startsWith('--')) args.set(arg.slice(2), all[i + 1] ?? '');
});
const BATCHES = Number(args.get('batches') ?? 2000);
const SIZE = Number(args.get('size') ?? 8);
const ORDERS = 40_000;
const STEPS = ['ready_to_fill', 'filled', 'shipped', 'out_for_delivery', 'delivered'];

async function benchOn(kind: TestDatabaseKind): Promise<void> {
  const db = await createTestDatabase(kind);
  const ds = new DataSource({ ...(db.options as object), entities: [...FULFILMENT_ENTITIES], migrations: [...FULFILMENT_MIGRATIONS], migrationsRun: true } as never);
  await ds.initialize();
  try {
    const now = new Date();
    const rows = Array.from({ length: ORDERS }, (_, i) => ({
      id: randomUUID(), provider: 'caryrx' as const, providerOrderId: `bo${i}`, idempotencyKey: `k${i}`, status: 'accepted' as const,
      providerStatus: 'pending', version: 0, syncFailures: 0, createdAt: now, updatedAt: now,
    }));
    for (let i = 0; i < rows.length; i += 500) await ds.manager.insert(FulfilmentOrder, rows.slice(i, i + 500));
    const store = new OrderStore(ds, { syncIntervalMs: 30_000 }, FulfilmentEventBus.over(new EventEmitter2()));
    let seq = 0;
    const batch = () =>
      Array.from({ length: SIZE }, () => {
        const n = seq++;
        const id = `bo${n % ORDERS}`;
        const status = STEPS[Math.floor(n / ORDERS) % STEPS.length];
        const at = new Date(Date.UTC(2026, 0, 1) + n * 1000);
        const row: WebhookInboxEvent = {
          dedupKey: `caryrx.order:${id}:${at.toISOString()}:${status}`, provider: 'caryrx', topic: 'caryrx.order', entityId: id, providerStatus: status,
          providerTimestamp: at, payload: '{}', outcome: null, error: null, receivedAt: new Date(), processedAt: null,
        };
        const observation = caryRxObservation({ id, orderStatus: status, updatedAt: at, trackingUrl: 'https://t.example/1', eta: null, shippingMethod: 'sameday_delivery', packagingMethod: null, samedayLocationX: null, samedayLocationY: null, patientId: null, prescriptionIds: [] })!;
        return { row, effect: { order: { provider: 'caryrx' as const, providerOrderId: id, observation } } };
      });
    for (let i = 0; i < 200; i++) await store.recordInbox(batch()); // warm-up
    const started = performance.now();
    for (let i = 0; i < BATCHES; i++) await store.recordInbox(batch());
    const ms = performance.now() - started;
    console.log(`[${kind}] ${BATCHES} batches of ${SIZE}: ${((1000 * ms) / (BATCHES * SIZE)).toFixed(1)} µs per event, ${(ms / BATCHES).toFixed(3)} ms per batch`);
  } finally {
    await ds.destroy();
    await db.cleanup();
  }
}

async function main(): Promise<void> {
  const which = args.get('db') ?? 'both';
  for (const kind of (which === 'both' ? ['sqlite', 'postgres'] : [which]) as TestDatabaseKind[]) await benchOn(kind);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
