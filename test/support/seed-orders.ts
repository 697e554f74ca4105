import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { FulfilmentOrder } from 'nestjs-fulfilment';

/** What a seeded order must name; every other column may be overridden. */
export type OrderRowOverrides = Pick<FulfilmentOrder, 'provider' | 'providerOrderId'> & Partial<FulfilmentOrder>;

/**
 * A complete FulfilmentOrder row (every column set, as order placement stores one) for tests that
 * write orders straight into the table: an accepted order with no provider status, no tracking,
 * not due for sync, created now; `overrides` on top.
 */
export function orderRow(overrides: OrderRowOverrides): FulfilmentOrder {
  const now = new Date();
  return Object.assign(new FulfilmentOrder(), {
    id: randomUUID(),
    idempotencyKey: `seed-${randomUUID()}`,
    hostReference: null,
    status: 'accepted',
    providerStatus: null,
    serviceLevel: null,
    trackingNumber: null,
    trackingUrl: null,
    eta: null,
    patientLinkId: null,
    providerCreatedAt: null,
    providerUpdatedAt: null,
    lastError: null,
    version: 0,
    nextSyncAt: null,
    syncLeaseOwner: null,
    syncLeaseUntil: null,
    syncFailures: 0,
    lastSyncedAt: null,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  } satisfies FulfilmentOrder);
}

/** Inserts one `orderRow(overrides)` and returns it. */
export async function seedOrder(dataSource: DataSource, overrides: OrderRowOverrides): Promise<FulfilmentOrder> {
  const order = orderRow(overrides);
  await dataSource.manager.insert(FulfilmentOrder, order);
  return order;
}
