import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';

/** A row as the driver returns it: database column names. */
export type DbRow = Record<string, unknown>;

/** Statements inside one transaction (or one read). SQL uses `?` placeholders on both databases. */
export interface Session {
  /** A statement that returns rows (SELECT, or a write with RETURNING). */
  all(sql: string, params?: unknown[]): Promise<DbRow[]>;
  /** A write without RETURNING; resolves to the number of rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
}

interface SqliteStatement {
  reader: boolean;
  all(...params: unknown[]): DbRow[];
  run(...params: unknown[]): { changes: number };
}
interface SqliteDatabase {
  inTransaction: boolean;
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
}
interface PgClient {
  query(config: { text: string; values: unknown[]; name?: string }): Promise<{ rows: DbRow[]; rowCount: number | null }>;
}

/** SQLite turns per DataSource: shared by every store on it (a host may import the module twice). */
const turns = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Named prepared statements kept per PostgreSQL connection: at most this many texts, and only short
 * ones. Multi-row statements vary with the batch (rows, changed columns) and are long: naming each
 * would keep thousands of plans per connection for little reuse.
 */
const MAX_NAMED_STATEMENTS = 500;
const MAX_NAMED_LENGTH = 4_000;
/** Statement texts kept prepared (SQLite) or converted (PostgreSQL); past it the cache starts over. */
const MAX_CACHED_STATEMENTS = 1_000;
/**
 * Statement texts → their name and `$n` text. Process-wide: a pooled connection prepares a name
 * once, so one name must always mean one text, whichever store (a host may import the module
 * twice) sends it.
 */
const pgNames = new Map<string, string>();
const pgTexts = new Map<string, string>();
/** How long a turn waits for a transaction someone else opened on the shared SQLite connection. */
const FOREIGN_TRANSACTION_WAIT_MS = 5_000;

/**
 * The store's access to the database, and the only place that knows how the two drivers differ.
 *
 * Statements go to the driver's own connection, reached through TypeORM's documented
 * `QueryRunner.connect()`: prepared once and reused (better-sqlite3 statements; named statements
 * on PostgreSQL), with values converted by the TypeORM driver's own `preparePersistentValue` /
 * `prepareHydratedValue`, so rows read and write exactly as TypeORM stores them, on 0.3 and 1.x.
 *
 * SQLite: TypeORM runs every query runner on ONE connection and does not queue transactions, so
 * the store's transactions take turns here (one at a time, in arrival order). PostgreSQL: each
 * transaction has a pooled connection of its own; row locks order concurrent writers.
 */
export class StoreDatabase {
  readonly postgres: boolean;
  private sqlite: SqliteDatabase | undefined;
  private readonly sqliteStatements = new Map<string, SqliteStatement>();
  private readonly codecs = new Map<EntityTarget<ObjectLiteral>, EntityCodec<ObjectLiteral>>();

  constructor(private readonly dataSource: DataSource) {
    const type = dataSource.options.type;
    if (type !== 'postgres' && type !== 'better-sqlite3') {
      throw new Error(`nestjs-fulfilment supports PostgreSQL (type "postgres") and SQLite (type "better-sqlite3"), not "${type}"`);
    }
    this.postgres = type === 'postgres';
  }

  /** The entity's table and column codec (built on first use: metadata is complete once TypeORM initialised). */
  codec<T extends ObjectLiteral>(entity: EntityTarget<T>): EntityCodec<T> {
    let codec = this.codecs.get(entity);
    if (!codec) this.codecs.set(entity, (codec = new EntityCodec(this.dataSource, this.dataSource.getMetadata(entity))));
    return codec as unknown as EntityCodec<T>;
  }

  /** `CAST(? AS type)` on PostgreSQL, where a bare parameter in VALUES or CASE is text; SQLite needs none. */
  cast(placeholder: string, pgType: string): string {
    return this.postgres ? `CAST(${placeholder} AS ${pgType})` : placeholder;
  }

  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (session: Session) => Promise<T>): Promise<T> {
    return this.postgres ? this.pgTransaction(work) : this.sqliteTurn(true, work);
  }

  /**
   * Statements outside an explicit transaction, each committed by itself: reads, and writes that
   * are one statement (no BEGIN and COMMIT round trips). On SQLite still in turn, so they never
   * see, or land inside, another turn's transaction.
   */
  autocommit<T>(work: (session: Session) => Promise<T>): Promise<T> {
    return this.postgres ? this.pgAutocommit(work) : this.sqliteTurn(false, work);
  }

  // --- SQLite ------------------------------------------------------------------------------------

  private async sqliteDb(): Promise<SqliteDatabase> {
    return (this.sqlite ??= (await this.dataSource.createQueryRunner().connect()) as SqliteDatabase);
  }

  private sqliteTurn<T>(write: boolean, work: (session: Session) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const db = await this.sqliteDb();
      await waitForForeignTransaction(db);
      const session = this.sqliteSession(db);
      if (!write) return work(session);
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work(session);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    };
    const result = (turns.get(this.dataSource) ?? Promise.resolve()).then(run, run);
    // The next turn starts whether this one succeeded or not.
    turns.set(this.dataSource, result.catch(() => undefined));
    return result;
  }

  private sqliteSession(db: SqliteDatabase): Session {
    const prepared = (sql: string): SqliteStatement => {
      let statement = this.sqliteStatements.get(sql);
      if (!statement) {
        if (this.sqliteStatements.size >= MAX_CACHED_STATEMENTS) this.sqliteStatements.clear();
        this.sqliteStatements.set(sql, (statement = db.prepare(sql)));
      }
      return statement;
    };
    return {
      all: async (sql, params = []) => prepared(sql).all(...params),
      run: async (sql, params = []) => prepared(sql).run(...params).changes,
    };
  }

  // --- PostgreSQL --------------------------------------------------------------------------------

  private async pgTransaction<T>(work: (session: Session) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner('master');
    try {
      const client = (await runner.connect()) as PgClient;
      await runner.startTransaction();
      try {
        const result = await work(this.pgSession(client));
        await runner.commitTransaction();
        return result;
      } catch (err) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    } finally {
      await runner.release();
    }
  }

  private async pgAutocommit<T>(work: (session: Session) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner('master');
    try {
      return await work(this.pgSession((await runner.connect()) as PgClient));
    } finally {
      await runner.release();
    }
  }

  private pgSession(client: PgClient): Session {
    const query = async (sql: string, params: unknown[]) => {
      let text = pgTexts.get(sql);
      if (text === undefined) {
        let n = 0;
        text = sql.replace(/\?/g, () => `$${++n}`);
        if (pgTexts.size >= MAX_CACHED_STATEMENTS) pgTexts.clear();
        pgTexts.set(sql, text);
      }
      let name = pgNames.get(sql);
      if (name === undefined && pgNames.size < MAX_NAMED_STATEMENTS && sql.length <= MAX_NAMED_LENGTH) pgNames.set(sql, (name = `nestjs_fulfilment_${pgNames.size}`));
      return client.query({ text, values: params, ...(name ? { name } : {}) });
    };
    return {
      all: async (sql, params = []) => (await query(sql, params)).rows,
      run: async (sql, params = []) => (await query(sql, params)).rowCount ?? 0,
    };
  }
}

async function waitForForeignTransaction(db: SqliteDatabase): Promise<void> {
  // A host's own TypeORM transaction on the shared connection: let it finish rather than join it.
  const until = Date.now() + FOREIGN_TRANSACTION_WAIT_MS;
  while (db.inTransaction && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
}

/** `?, ?, ?` for n values. */
export const marks = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/**
 * One entity's table: its escaped name, its columns, and rows converted to and from what the
 * driver stores (through the TypeORM driver's own conversions).
 */
export class EntityCodec<T extends ObjectLiteral> {
  /** Schema-qualified when the DataSource names a schema; escaped for its driver. */
  readonly table: string;
  /** Every column once (a relation's join column and a plain column can share one). */
  readonly columns: EntityMetadata['columns'];
  /** The escaped column names, in `columns` order. */
  readonly columnList: string;
  private readonly byProperty = new Map<string, EntityMetadata['columns'][number]>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly metadata: EntityMetadata,
  ) {
    this.table = metadata.tablePath
      .split('.')
      .map((part) => dataSource.driver.escape(part))
      .join('.');
    const seen = new Set<string>();
    this.columns = metadata.columns.filter((c) => !seen.has(c.databaseName) && seen.add(c.databaseName));
    this.columnList = this.columns.map((c) => dataSource.driver.escape(c.databaseName)).join(', ');
    for (const c of this.columns) this.byProperty.set(c.propertyName, c);
  }

  /** The escaped column name of a property. */
  column(property: keyof T & string): string {
    return this.dataSource.driver.escape(this.columnOf(property).databaseName);
  }

  /** The column's PostgreSQL type, for a CAST where a bare parameter would be text. */
  pgType(property: keyof T & string): string {
    return this.dataSource.driver.normalizeType(this.columnOf(property));
  }

  /** A value for the property's column, as the driver stores it. */
  value(property: keyof T & string, value: unknown): unknown {
    return toDb(this.dataSource.driver.preparePersistentValue(value ?? null, this.columnOf(property)));
  }

  /** Every column's value of a row, in `columns` order (for an INSERT of the whole row). */
  values(row: T): unknown[] {
    return this.columns.map((c) =>
      toDb(this.dataSource.driver.preparePersistentValue((c.propertyName in row ? row[c.propertyName] : c.getEntityValue(row)) ?? null, c)),
    );
  }

  /** A driver row → the entity, hydrated as TypeORM hydrates it. Columns absent from `row` are left out. */
  decode(row: DbRow): T {
    const entity = this.metadata.create() as T;
    for (const c of this.columns) {
      if (!(c.databaseName in row)) continue;
      const value = row[c.databaseName];
      (entity as ObjectLiteral)[c.propertyName] = value === null || value === undefined ? null : this.dataSource.driver.prepareHydratedValue(value, c);
    }
    return entity;
  }

  private columnOf(property: string): EntityMetadata['columns'][number] {
    const column = this.byProperty.get(property);
    if (!column) throw new Error(`${this.metadata.name} has no column ${property}`);
    return column;
  }
}

/** better-sqlite3 binds no undefined and no booleans; the TypeORM driver has converted everything else. */
const toDb = (v: unknown): unknown => (v === undefined ? null : typeof v === 'boolean' ? (v ? 1 : 0) : v);
