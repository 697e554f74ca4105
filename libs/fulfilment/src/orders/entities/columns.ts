import { Column, type ColumnOptions, type DataSource } from 'typeorm';

/**
 * Column helpers shared by every entity, so both databases get the same types: timestamps are
 * `timestamp with time zone` on PostgreSQL (see FulfilmentEntity) and `datetime` on SQLite (UTC
 * text). Times are always written from Node (never `now()` in SQL), so comparisons stay consistent on both.
 */
export const TimestampColumn = (name: string, options: Omit<ColumnOptions, 'type' | 'name'> = {}) =>
  Column({ type: Date, name, ...options });

export const IdColumn = (name: string, options: Omit<ColumnOptions, 'type' | 'name' | 'length'> = {}) =>
  Column({ type: 'varchar', length: 64, name, ...options });

export const Varchar = (name: string, length: number, options: Omit<ColumnOptions, 'type' | 'name' | 'length'> = {}) =>
  Column({ type: 'varchar', length, name, ...options });

/**
 * Base of the module's entities, for one reason: the timestamp column type has to follow the
 * driver, and no type TypeORM (0.3.20+, 1.x) accepts works on both. Its SQLite driver supports only
 * `datetime` (or `Date`) for a timestamp and converts only those to UTC text ('timestamptz' and
 * 'timestamp with time zone' fail its supported-types check); PostgreSQL has no `datetime`, and
 * `Date` there means `timestamp without time zone`, which the pg driver fills with the process's
 * local time. After a DataSource has built and validated its metadata, and before it synchronizes
 * or runs migrations, TypeORM calls `useDataSource` on each entity class it takes for a BaseEntity
 * (one with static `hasId`, `save` and `useDataSource`: InstanceChecker.isBaseEntityConstructor).
 * That is the one point where a type can follow the driver: on PostgreSQL the `Date` columns of
 * that DataSource become `timestamptz`, so schema diffs (migration:generate), casts and value
 * conversion all see the type the migrations create. Statics only: instances stay plain objects
 * (no Active Record methods, so object literals still type-check as entities).
 */
export abstract class FulfilmentEntity {
  static useDataSource(dataSource: DataSource | null): void {
    if (dataSource?.options.type !== 'postgres') return;
    for (const column of dataSource.getMetadata(this).columns) if (column.type === Date) column.type = 'timestamptz';
  }

  /** Present only for TypeORM's BaseEntity check above; the module's entities are not Active Records (OrderStore writes them). */
  static hasId(): never {
    throw new Error('the fulfilment entities are not Active Records: use the module\'s services');
  }

  /** See hasId. */
  static save(): never {
    return FulfilmentEntity.hasId();
  }
}
