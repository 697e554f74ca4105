import type { DataSource, EntityManager, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * Single-row INSERT, UPDATE and SELECT with SQL built once per table and reused.
 *
 * INSERT of one entity row: TypeORM's InsertQueryBuilder
 * rebuilds the statement on every call, and on the webhook hot path that was the largest single
 * cost (measured with bench/webhooks). Values still go through the driver's own conversion
 * (dates, booleans), so rows are stored exactly as TypeORM would store them.
 *
 * `ignoreConflict` adds ON CONFLICT DO NOTHING (PostgreSQL, and SQLite ≥ 3.24); with `returning`
 * the result has one row when the insert happened and none on a conflict (RETURNING needs SQLite ≥ 3.35).
 */
export async function insertRow<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  row: T,
  options: { ignoreConflict?: boolean; returning?: string } = {},
): Promise<unknown[]> {
  const metadata = manager.connection.getMetadata(target);
  const statement = statementFor(manager, metadata, options);
  const driver = manager.connection.driver;
  // A plain property wins over a relation's join value (history rows carry orderId, not the order).
  const params = statement.columns.map((column) =>
    driver.preparePersistentValue(column.propertyName in row ? row[column.propertyName] : column.getEntityValue(row), column),
  );
  const result: unknown = await manager.query(statement.sql, params);
  return Array.isArray(result) ? result : [];
}

interface Statement {
  sql: string;
  columns: EntityMetadata['columns'];
}

const statements = new WeakMap<EntityMetadata, Map<string, Statement>>();

function statementFor(manager: EntityManager, metadata: EntityMetadata, options: { ignoreConflict?: boolean; returning?: string }): Statement {
  const key = `${options.ignoreConflict ? 'ignore' : 'plain'}:${options.returning ?? ''}`;
  let byKey = statements.get(metadata);
  if (!byKey) statements.set(metadata, (byKey = new Map()));
  const cached = byKey.get(key);
  if (cached) return cached;

  const driver = manager.connection.driver;
  const postgres = manager.connection.options.type === 'postgres';
  // A relation's join column and a plain column can share one database column: write it once.
  const seen = new Set<string>();
  const columns = metadata.columns.filter((c) => !seen.has(c.databaseName) && seen.add(c.databaseName));
  const names = columns.map((c) => driver.escape(c.databaseName)).join(', ');
  const placeholders = columns.map((_, i) => (postgres ? `$${i + 1}` : '?')).join(', ');
  const sql =
    `INSERT INTO ${tableName(manager.connection, metadata)} (${names}) VALUES (${placeholders})` +
    (options.ignoreConflict ? ' ON CONFLICT DO NOTHING' : '') +
    (options.returning ? ` RETURNING ${driver.escape(options.returning)}` : '');
  const statement = { sql, columns };
  byKey.set(key, statement);
  return statement;
}

type Where = Record<string, unknown>;

/**
 * `:name` and `:...list` parameters → the driver's placeholders and values. The driver method is
 * the same on TypeORM 0.3 and 1.x except its signature: 0.3 requires a third "native parameters"
 * object (and fails with "Cannot convert undefined or null to object" without one), 1.x has none.
 */
export function expandParameters(dataSource: DataSource, sql: string, params: Record<string, unknown>): [string, unknown[]] {
  const escape = dataSource.driver.escapeQueryWithParameters as (sql: string, params: ObjectLiteral, native: ObjectLiteral) => [string, unknown[]];
  return escape.call(dataSource.driver, sql, params, {});
}

const cachedSql = new WeakMap<EntityMetadata, Map<string, string>>();

function sqlFor(metadata: EntityMetadata, key: string, build: () => string): string {
  let byKey = cachedSql.get(metadata);
  if (!byKey) cachedSql.set(metadata, (byKey = new Map()));
  let sql = byKey.get(key);
  if (!sql) byKey.set(key, (sql = build()));
  return sql;
}

/** The entity's table, schema-qualified when the DataSource names a schema, escaped for its driver. */
export function tableName(dataSource: DataSource, metadata: EntityMetadata): string {
  return metadata.tablePath
    .split('.')
    .map((part) => dataSource.driver.escape(part))
    .join('.');
}

function columnOf(metadata: EntityMetadata, propertyName: string) {
  const column = metadata.columns.find((c) => c.propertyName === propertyName);
  if (!column) throw new Error(`${metadata.name} has no column ${propertyName}`);
  return column;
}

/** UPDATE … SET <changed properties> WHERE <properties> = …, one statement, SQL cached per column set. */
export async function updateRow<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  where: Where,
  changes: Partial<T>,
): Promise<void> {
  const metadata = manager.connection.getMetadata(target);
  const driver = manager.connection.driver;
  const postgres = manager.connection.options.type === 'postgres';
  const setColumns = Object.keys(changes).filter((k) => (changes as Record<string, unknown>)[k] !== undefined).map((k) => columnOf(metadata, k));
  const whereColumns = Object.keys(where).map((k) => columnOf(metadata, k));
  if (setColumns.length === 0) return;
  const key = `update:${setColumns.map((c) => c.propertyName).join(',')}:${whereColumns.map((c) => c.propertyName).join(',')}`;
  const sql = sqlFor(metadata, key, () => {
    let i = 0;
    const ph = () => (postgres ? `$${++i}` : '?');
    const set = setColumns.map((c) => `${driver.escape(c.databaseName)} = ${ph()}`).join(', ');
    const cond = whereColumns.map((c) => `${driver.escape(c.databaseName)} = ${ph()}`).join(' AND ');
    return `UPDATE ${tableName(manager.connection, metadata)} SET ${set} WHERE ${cond}`;
  });
  const params = [
    ...setColumns.map((c) => driver.preparePersistentValue((changes as Record<string, unknown>)[c.propertyName], c)),
    ...whereColumns.map((c) => driver.preparePersistentValue(where[c.propertyName], c)),
  ];
  await manager.query(sql, params);
}

/**
 * SELECT one row by equality on the given properties, hydrated into the entity class as TypeORM would
 * (dates, booleans); `forUpdate` adds FOR UPDATE on PostgreSQL (SQLite serialises writers itself).
 */
export async function findOneRow<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  where: Where,
  options: { forUpdate?: boolean } = {},
): Promise<T | null> {
  const metadata = manager.connection.getMetadata(target);
  const driver = manager.connection.driver;
  const postgres = manager.connection.options.type === 'postgres';
  const whereColumns = Object.keys(where).map((k) => columnOf(metadata, k));
  const lock = options.forUpdate && postgres;
  const seen = new Set<string>();
  const columns = metadata.columns.filter((c) => !seen.has(c.databaseName) && seen.add(c.databaseName));
  const key = `select:${whereColumns.map((c) => c.propertyName).join(',')}:${lock ? 'lock' : ''}`;
  const sql = sqlFor(metadata, key, () => {
    let i = 0;
    const cond = whereColumns.map((c) => `${driver.escape(c.databaseName)} = ${postgres ? `$${++i}` : '?'}`).join(' AND ');
    return `SELECT ${columns.map((c) => driver.escape(c.databaseName)).join(', ')} FROM ${tableName(manager.connection, metadata)} WHERE ${cond} LIMIT 1${lock ? ' FOR UPDATE' : ''}`;
  });
  const rows: unknown = await manager.query(sql, whereColumns.map((c) => driver.preparePersistentValue(where[c.propertyName], c)));
  const row = Array.isArray(rows) ? (rows[0] as Record<string, unknown> | undefined) : undefined;
  if (!row) return null;
  const entity = metadata.create() as T;
  for (const column of columns) {
    (entity as Record<string, unknown>)[column.propertyName] = driver.prepareHydratedValue(row[column.databaseName], column);
  }
  return entity;
}

/** Whether a row matches equality on the given properties (`SELECT 1 … LIMIT 1`: no columns read, none hydrated). */
export async function rowExists<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, where: Where): Promise<boolean> {
  const metadata = manager.connection.getMetadata(target);
  const driver = manager.connection.driver;
  const postgres = manager.connection.options.type === 'postgres';
  const whereColumns = Object.keys(where).map((k) => columnOf(metadata, k));
  const sql = sqlFor(metadata, `exists:${whereColumns.map((c) => c.propertyName).join(',')}`, () => {
    let i = 0;
    const cond = whereColumns.map((c) => `${driver.escape(c.databaseName)} = ${postgres ? `$${++i}` : '?'}`).join(' AND ');
    return `SELECT 1 AS found FROM ${tableName(manager.connection, metadata)} WHERE ${cond} LIMIT 1`;
  });
  const rows: unknown = await manager.query(sql, whereColumns.map((c) => driver.preparePersistentValue(where[c.propertyName], c)));
  return Array.isArray(rows) && rows.length > 0;
}
