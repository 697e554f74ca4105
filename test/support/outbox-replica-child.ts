// One replica for test/orders/outbox.spec.ts, in a process of its own: boots the module (Nest, TypeORM,
// EventEmitter) on the test's database, prints every domain event its listener receives as a line
// `EVENT <json>`, and, as OUTBOX_CHILD says, either places one order and dies by SIGKILL inside the
// first delivery (after the commit, before the delivery is marked), or stays up for `stayMs`
// (its outbox relay delivers what a dead replica left) and exits cleanly.
import 'reflect-metadata';
import { writeSync } from 'node:fs';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { FulfilmentModule, FulfilmentEvents } from 'nestjs-fulfilment';
import { newFulfilmentOrder } from '../../libs/fulfilment/src/orders/entities/fulfilment-order.entity.js';
import { OrderStore } from '../../libs/fulfilment/src/orders/order-store.js';
import { databaseOptionsFromUrl } from '../../apps/sample-host/src/database.js';

export interface OutboxChildConfig {
  url: string;
  schema?: string;
  /** Place an order with this idempotency key, then die by SIGKILL in the first delivery. */
  placeAndDie?: string;
  /** Otherwise: stay up this long, then close. */
  stayMs?: number;
}

const config: OutboxChildConfig = JSON.parse(process.env.OUTBOX_CHILD!);

@Module({
  imports: [
    TypeOrmModule.forRoot({ ...databaseOptionsFromUrl(config.url, { schema: config.schema }), migrationsRun: true } as never),
    EventEmitterModule.forRoot(),
    FulfilmentModule.forRoot({
      scriptdrop: { baseUrl: 'http://127.0.0.1:9', apiKey: 'pk_outbox', apiSecret: 'sk_outbox' },
      sync: { enabled: false },
      events: { leaseMs: 1000, redeliverIntervalMs: 200 },
    }),
  ],
})
class ReplicaModule {}

const app = await NestFactory.createApplicationContext(ReplicaModule, { logger: ['error'] });
app.get(EventEmitter2).on(FulfilmentEvents.OrderStatusChanged, (event: { eventId: string; orderId: string; status: string }) => {
  writeSync(1, `EVENT ${JSON.stringify({ eventId: event.eventId, orderId: event.orderId, status: event.status })}\n`);
  if (config.placeAndDie) process.kill(process.pid, 'SIGKILL');
});
await app.init();
if (config.placeAndDie) {
  await app.get(OrderStore).placeOrder(newFulfilmentOrder({ provider: 'scriptdrop', idempotencyKey: config.placeAndDie, status: 'created' }));
  writeSync(1, 'NOT KILLED\n');
} else {
  await new Promise((resolve) => setTimeout(resolve, config.stayMs ?? 0));
}
await app.close();
writeSync(1, 'DONE\n');
