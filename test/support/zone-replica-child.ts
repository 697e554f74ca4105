// One replica for test/persistence/time-zones.spec.ts and migrations.spec.ts (see zone-replica.ts), in a process of its own whose TZ the
// test sets: runs the steps of TZ_CHILD (JSON) on the test's database, through the module's
// migrations and OrderStore, and prints what they answered (dates as ISO instants) on one line.
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { FULFILMENT_MIGRATIONS } from 'nestjs-fulfilment';
import { newFulfilmentOrder, FulfilmentOrder } from '../../libs/fulfilment/src/orders/entities/fulfilment-order.entity.js';
import { OrderStore } from '../../libs/fulfilment/src/orders/order-store.js';
import { FulfilmentEventBus } from '../../libs/fulfilment/src/orders/fulfilment-event-bus.js';
import { SCRIPTDROP_STATUS_TABLE } from '../../libs/fulfilment/src/scriptdrop/scriptdrop-observation.js';
import { databaseOptionsFromUrl } from '../../apps/sample-host/src/database.js';

export type ChildStep =
  | { op: 'migrate'; count?: number }
  | { op: 'undo' }
  /** `columnsBefore`: the schema is an older one; only the columns it had are written (plain SQL). */
  | { op: 'place'; order: Partial<FulfilmentOrder> & Pick<FulfilmentOrder, 'id' | 'providerOrderId'>; columnsBefore?: boolean }
  | { op: 'observe'; providerOrderId: string; providerStatus: string; providerTimestamp: Date }
  | { op: 'read'; id: string }
  | { op: 'claim'; dueBefore: Date };
export interface ChildConfig {
  url: string;
  schema?: string;
  steps: ChildStep[];
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const config: ChildConfig = JSON.parse(process.env.TZ_CHILD!, (_k, v) => (typeof v === 'string' && ISO.test(v) ? new Date(v) : v));
const { steps } = config;
// Only the first `count` migrations, when a step asks for the schema as it was before a later one.
const count = steps.map((s) => (s.op === 'migrate' ? s.count : undefined)).find(Boolean) ?? FULFILMENT_MIGRATIONS.length;
const ds = new DataSource({
  ...(databaseOptionsFromUrl(config.url, { schema: config.schema }) as DataSourceOptions),
  migrations: FULFILMENT_MIGRATIONS.slice(0, count),
  migrationsRun: false,
});
await ds.initialize();
const store = new OrderStore(ds, { syncIntervalMs: 1000 }, FulfilmentEventBus.over(new EventEmitter2()));
const answers: unknown[] = [];
for (const step of steps) {
  if (step.op === 'migrate') answers.push((await ds.runMigrations({ transaction: 'each' })).map((m) => m.name));
  if (step.op === 'undo') answers.push(await ds.undoLastMigration({ transaction: 'each' }));
  if (step.op === 'place' && step.columnsBefore) {
    const o = step.order;
    await ds.query(
      `INSERT INTO fulfilment_orders (id, provider, provider_order_id, idempotency_key, status, version, sync_failures, created_at, updated_at, eta, next_sync_at)
       VALUES ($1, 'scriptdrop', $2, $1, 'accepted', 0, 0, $3, $4, $5, $6)`,
      [o.id, o.providerOrderId, o.createdAt, o.updatedAt, o.eta ?? null, o.nextSyncAt ?? null],
    );
    answers.push(o);
  } else if (step.op === 'place') answers.push((await store.placeOrder(newFulfilmentOrder({ provider: 'scriptdrop', idempotencyKey: step.order.id, status: 'accepted', ...step.order }))).order);
  if (step.op === 'observe') {
    const { providerOrderId, providerStatus, providerTimestamp } = step;
    answers.push((await store.observe('scriptdrop', providerOrderId, { statuses: SCRIPTDROP_STATUS_TABLE, providerStatus, providerTimestamp }, 'sync')).outcome);
  }
  if (step.op === 'read') answers.push(await store.getOrder(step.id));
  if (step.op === 'claim') {
    const now = new Date();
    const claimed = await store.claimDue({ owner: `tz-${process.env.TZ}`, providers: ['scriptdrop'], limit: 10, dueBefore: step.dueBefore, now, leaseUntil: new Date(now.getTime() + 1000) });
    answers.push(claimed.map((o) => o.id));
  }
}
await store.flushDeliveries();
await ds.destroy();
process.stdout.write(`${JSON.stringify({ zone: Intl.DateTimeFormat().resolvedOptions().timeZone, answers })}\n`);
