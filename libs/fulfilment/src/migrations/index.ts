import type { DataSource, Migration } from 'typeorm';
import { FulfilmentInitial1764000000000 } from './1764000000000-fulfilment-initial.js';
import { FulfilmentSyncFillfactor1764100000000 } from './1764100000000-fulfilment-sync-fillfactor.js';
import { FulfilmentDeliveryDetails1764200000000 } from './1764200000000-fulfilment-delivery-details.js';
import { FulfilmentTimestamptz1764300000000 } from './1764300000000-fulfilment-timestamptz.js';
import { FulfilmentInboxUnmatched1764400000000 } from './1764400000000-fulfilment-inbox-unmatched.js';
import { FulfilmentOutbox1764500000000 } from './1764500000000-fulfilment-outbox.js';
import { FulfilmentRetention1764600000000 } from './1764600000000-fulfilment-retention.js';
import { FulfilmentOpsConsole1764700000000 } from './1764700000000-fulfilment-ops-console.js';
import { FulfilmentOpenOrdersIndex1764800000000 } from './1764800000000-fulfilment-open-orders-index.js';

/** The module's migrations in order, for the host's own TypeORM `migrations` setting. */
export const FULFILMENT_MIGRATIONS = [
  FulfilmentInitial1764000000000,
  FulfilmentSyncFillfactor1764100000000,
  FulfilmentDeliveryDetails1764200000000,
  FulfilmentTimestamptz1764300000000,
  FulfilmentInboxUnmatched1764400000000,
  FulfilmentOutbox1764500000000,
  FulfilmentRetention1764600000000,
  FulfilmentOpsConsole1764700000000,
  FulfilmentOpenOrdersIndex1764800000000,
];

/**
 * Runs pending migrations of `dataSource` (the module's, if the host listed them, and the host's
 * own) on PostgreSQL or SQLite, each in its own transaction. Returns the ones it ran.
 */
export async function runFulfilmentMigrations(dataSource: DataSource): Promise<Migration[]> {
  const listed = new Set(dataSource.migrations.map((m) => m.name ?? m.constructor.name));
  const missing = FULFILMENT_MIGRATIONS.filter((m) => !listed.has(m.name) && !listed.has(new m().name));
  if (missing.length > 0) {
    throw new Error(
      `the DataSource does not list the fulfilment migrations (${missing.map((m) => m.name).join(', ')}); add FULFILMENT_MIGRATIONS to its "migrations" option`,
    );
  }
  return dataSource.runMigrations({ transaction: 'each' });
}
