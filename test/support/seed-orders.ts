import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { FulfilmentOrder } from 'nestjs-fulfilment';
import { newFulfilmentOrder } from 'nestjs-fulfilment/testing';

/** What a seeded order must name; every other column may be overridden. */
export type OrderRowOverrides = Pick<FulfilmentOrder, 'provider' | 'providerOrderId'> & Partial<FulfilmentOrder>;

/**
 * A complete FulfilmentOrder row (built as order placement builds one) for tests that
 * write orders straight into the table: an accepted order with no provider status, no tracking,
 * not due for sync, created now; `overrides` on top.
 */
export function orderRow(overrides: OrderRowOverrides): FulfilmentOrder {
  return newFulfilmentOrder({ idempotencyKey: `seed-${randomUUID()}`, status: 'accepted', ...overrides });
}

/** Inserts one `orderRow(overrides)` and returns it. */
export async function seedOrder(dataSource: DataSource, overrides: OrderRowOverrides): Promise<FulfilmentOrder> {
  const order = orderRow(overrides);
  await dataSource.manager.insert(FulfilmentOrder, order);
  return order;
}
