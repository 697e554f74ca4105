import { DataSource as TypeOrmDataSource, type DataSource, type DataSourceOptions } from 'typeorm';
import { createTestDatabase, type TestDatabaseKind } from '../support/test-database.js';
import { orderRow } from '../support/seed-orders.js';
import { FulfilmentOrder } from '../../libs/fulfilment/src/orders/entities/fulfilment-order.entity.js';
import type { FulfilmentStatus } from '../../libs/fulfilment/src/orders/order-state-machine.js';
import type { ProviderName } from '../../libs/fulfilment/src/http/provider-errors.js';
import type { OrderObservation } from '../../libs/fulfilment/src/orders/order-state-machine.js';
import { CARYRX_STATUS_TABLE } from '../../libs/fulfilment/src/caryrx/caryrx-observation.js';
import { SCRIPTDROP_STATUS_TABLE } from '../../libs/fulfilment/src/scriptdrop/scriptdrop-observation.js';
import type { ProviderStatusReader, StatusReadContext } from '../../libs/fulfilment/src/sync/provider-status-readers.js';

export interface SeedOrder {
  provider: ProviderName;
  providerOrderId: string | null;
  status?: FulfilmentStatus;
  providerStatus?: string | null;
  serviceLevel?: string | null;
  /** Default: one minute ago (due). `null`: never synced (terminal). */
  nextSyncAt?: Date | null;
  syncLeaseOwner?: string | null;
  syncLeaseUntil?: Date | null;
  syncFailures?: number;
  updatedAt?: Date;
}

/** Inserts orders straight into the table (faster than placing them through a provider). */
export async function seedOrders(dataSource: DataSource, orders: SeedOrder[]): Promise<FulfilmentOrder[]> {
  const now = new Date();
  const rows = orders.map((o) =>
    orderRow({
      provider: o.provider,
      providerOrderId: o.providerOrderId,
      status: o.status ?? 'accepted',
      providerStatus: o.providerStatus === undefined ? null : o.providerStatus,
      serviceLevel: o.serviceLevel ?? null,
      nextSyncAt: o.nextSyncAt === undefined ? new Date(now.getTime() - 60_000) : o.nextSyncAt,
      syncLeaseOwner: o.syncLeaseOwner ?? null,
      syncLeaseUntil: o.syncLeaseUntil ?? null,
      syncFailures: o.syncFailures ?? 0,
      createdAt: o.updatedAt ?? now,
      updatedAt: o.updatedAt ?? now,
    }),
  );
  // SQLite caps bound parameters per statement: insert in chunks. updateEntity(false): TypeORM's
  // read-back after a multi-row SQLite insert maps rows in the wrong order and rewrites our ids.
  for (let i = 0; i < rows.length; i += 200) {
    await dataSource.createQueryBuilder().insert().into(FulfilmentOrder).values(rows.slice(i, i + 200)).updateEntity(false).execute();
  }
  return rows;
}

/** Makes every open order due now, so the next tick reads it (instead of waiting an interval). */
export async function makeAllDue(dataSource: DataSource): Promise<void> {
  await dataSource
    .createQueryBuilder()
    .update(FulfilmentOrder)
    .set({ nextSyncAt: new Date(Date.now() - 1000) })
    .where('next_sync_at IS NOT NULL')
    .execute();
}

/**
 * A provider in memory: statuses per provider order id, every read recorded. `block()` holds reads
 * until released; `failWith` throws from the next reads.
 */
export class FakeReader implements ProviderStatusReader {
  readonly statuses = new Map<string, OrderObservation>();
  /** The ids of each read call, in order. */
  readonly reads: string[][] = [];
  failWith: Error | undefined;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  private onRead: Array<() => void> = [];

  constructor(readonly provider: ProviderName) {}

  set(id: string, providerStatus: string, extra: Partial<OrderObservation> = {}): void {
    const statuses = this.provider === 'caryrx' ? CARYRX_STATUS_TABLE : SCRIPTDROP_STATUS_TABLE;
    this.statuses.set(id, { statuses, providerStatus, ...extra });
  }

  readCount(id: string): number {
    return this.reads.filter((ids) => ids.includes(id)).length;
  }

  /** Holds every read until the returned function is called. */
  block(): () => void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
    return () => {
      this.gate = undefined;
      this.openGate?.();
    };
  }

  /** Resolves at the next read call. */
  nextRead(): Promise<void> {
    return new Promise((resolve) => this.onRead.push(resolve));
  }

  async read(ids: string[], context?: StatusReadContext): Promise<Map<string, OrderObservation>> {
    this.reads.push([...ids]);
    context?.onRequest();
    this.onRead.splice(0).forEach((r) => r());
    if (this.gate) await this.gate;
    if (this.failWith) throw this.failWith;
    const out = new Map<string, OrderObservation>();
    for (const id of ids) {
      const s = this.statuses.get(id);
      if (s) out.set(id, s);
    }
    return out;
  }
}

/** Polls `check` until it is true (no fixed sleeps in assertions; gives up after `timeoutMs`). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A DataSource of its own on a fresh test database (SQLite file or PostgreSQL schema), migrated. */
export async function openDataSource(): Promise<{ dataSource: DataSource; kind: TestDatabaseKind; cleanup(): Promise<void> }> {
  const db = await createTestDatabase();
  const dataSource = new TypeOrmDataSource(db.options as DataSourceOptions);
  await dataSource.initialize(); // migrationsRun: the module's migrations run here
  return {
    dataSource,
    kind: db.kind,
    cleanup: async () => {
      await dataSource.destroy();
      await db.cleanup();
    },
  };
}
