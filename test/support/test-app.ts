import { Test } from '@nestjs/testing';
import type { INestApplication, LoggerService, LogLevel, ModuleMetadata } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitterModule, EventEmitter2 } from '@nestjs/event-emitter';
import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { FulfilmentModule, FulfilmentEvents, type FulfilmentModuleExtras, type FulfilmentModuleOptions } from 'nestjs-fulfilment';
import { createTestDatabase, type TestDatabase } from './test-database.js';

/** The HTTP adapters the module supports; suites that cover HTTP behaviour run on each. */
export const TEST_ADAPTERS = ['express', 'fastify'] as const;
export type TestAdapter = (typeof TEST_ADAPTERS)[number];

export interface TestAppExtras {
  db?: TestDatabase;
  imports?: ModuleMetadata['imports'];
  providers?: ModuleMetadata['providers'];
  /** Default express. */
  adapter?: TestAdapter;
  /** Receives every log line of the app instead of the console's error and warn levels. */
  logger?: LoggerService;
  /** Called before the app initialises (e.g. `app.setGlobalPrefix('api')`). */
  configure?: (app: INestApplication) => void;
}

export interface TestApp {
  app: INestApplication;
  /** Base URL of the app on loopback, e.g. http://127.0.0.1:43121 */
  url: string;
  db: TestDatabase;
  dataSource: DataSource;
  /** Every fulfilment.* event emitted, in order. */
  events: Array<{ name: string; payload: unknown }>;
  close(): Promise<void>;
}

/**
 * Boots a real Nest app (express, or Fastify with `adapter: 'fastify'`) with TypeORM on a fresh
 * test database (migrations run), EventEmitter and FulfilmentModule.forRoot(options), listening on
 * a free loopback port.
 */
export async function createTestApp(options: FulfilmentModuleOptions & FulfilmentModuleExtras, extra: TestAppExtras = {}): Promise<TestApp> {
  const db = extra.db ?? (await createTestDatabase());
  const builder = Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(db.options),
      EventEmitterModule.forRoot({ wildcard: true }),
      FulfilmentModule.forRoot(options),
      ...(extra.imports ?? []),
    ],
    providers: extra.providers ?? [],
  });
  if (extra.logger) builder.setLogger(extra.logger);
  const moduleRef = await builder.compile();
  const logger: LoggerService | LogLevel[] = extra.logger ?? ['error', 'warn'];
  const app = extra.adapter === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter(), { logger }) : moduleRef.createNestApplication({ logger });
  app.enableShutdownHooks();
  extra.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const events: TestApp['events'] = [];
  const emitter = app.get(EventEmitter2);
  emitter.onAny((name, payload) => {
    const n = Array.isArray(name) ? name.join('.') : String(name);
    if (Object.values(FulfilmentEvents).includes(n as never)) events.push({ name: n, payload });
  });
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    db,
    dataSource: app.get<DataSource>(getDataSourceToken()),
    events,
    close: async () => {
      await app.close();
      if (!extra.db) await db.cleanup();
    },
  };
}
