import { Column, type ColumnOptions } from 'typeorm';

/**
 * Column helpers shared by every entity, so both databases get the same types:
 * `Date` maps to `timestamp` on PostgreSQL and `datetime` on SQLite. Times are always written from
 * Node (never `now()` in SQL), so comparisons stay consistent on both.
 */
export const TimestampColumn = (name: string, options: Omit<ColumnOptions, 'type' | 'name'> = {}) =>
  Column({ type: Date, name, ...options });

export const IdColumn = (name: string, options: Omit<ColumnOptions, 'type' | 'name' | 'length'> = {}) =>
  Column({ type: 'varchar', length: 64, name, ...options });

export const Varchar = (name: string, length: number, options: Omit<ColumnOptions, 'type' | 'name' | 'length'> = {}) =>
  Column({ type: 'varchar', length, name, ...options });
