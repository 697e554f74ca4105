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
  | { op: 'place'; order: Partial<FulfilmentOrder> & Pick<FulfilmentOrder, 'id' | 'providerOrderId'> }
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
  if (step.op === 'place') {
    const order = newFulfilmentOrder({ provider: 'scriptdrop', idempotencyKey: step.order.id, status: 'accepted', ...step.order });
    // On a schema older than the entities (a later migration adds a history column) the order row
    // alone goes in, through the same driver conversions; the store would write its history row too.
    if (count < FULFILMENT_MIGRATIONS.length) answers.push((await ds.manager.insert(FulfilmentOrder, order), order));
    else answers.push((await store.placeOrder(order)).order);
  }
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
await ds.destroy();
process.stdout.write(`${JSON.stringify({ zone: Intl.DateTimeFormat().resolvedOptions().timeZone, answers })}\n`);
