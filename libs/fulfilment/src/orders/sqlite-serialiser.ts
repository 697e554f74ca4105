import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * TypeORM's SQLite drivers run every query runner on ONE connection and do not queue
 * transactions: two overlapping `dataSource.transaction()` calls fail with "cannot start a
 * transaction within a transaction", and a plain statement issued meanwhile silently joins the
 * open transaction. So on SQLite our writes take turns through one queue per DataSource;
 * PostgreSQL (a pool, row locks) runs them concurrently.
 */
const queues = new WeakMap<DataSource, Promise<unknown>>();
/** The DataSources whose queue the current async context already holds: nested calls run at once. */
const holding = new AsyncLocalStorage<ReadonlySet<DataSource>>();

export function serialiseOnSqlite<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  const type = dataSource.options.type;
  if (type !== 'better-sqlite3') return work();
  const held = holding.getStore();
  if (held?.has(dataSource)) return work();
  const inTurn = () => holding.run(new Set([...(held ?? []), dataSource]), work);
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const run = previous.then(inTurn, inTurn);
  // The queue continues whether this piece of work succeeds or fails.
  queues.set(
    dataSource,
    run.then(
      () => undefined,
      () => undefined,
    ),
  );
  return run;
}

/** A transaction that takes its turn on SQLite (see above) and runs concurrently on PostgreSQL. */
export function runTransaction<T>(dataSource: DataSource, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  return serialiseOnSqlite(dataSource, () => dataSource.transaction(work));
}
