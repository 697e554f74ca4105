import { Test } from '@nestjs/testing';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitterModule, EventEmitter2 } from '@nestjs/event-emitter';
import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { FulfilmentModule, FulfilmentEvents, type FulfilmentModuleOptions } from 'nestjs-fulfilment';
import { createTestDatabase, type TestDatabase } from './test-database.js';

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
 * Boots a real Nest app with TypeORM on a fresh test database (migrations run), EventEmitter and
 * FulfilmentModule.forRoot(options), listening on a free loopback port.
 */
export async function createTestApp(
  options: FulfilmentModuleOptions,
  extra: { db?: TestDatabase; imports?: ModuleMetadata['imports']; providers?: ModuleMetadata['providers'] } = {},
): Promise<TestApp> {
  const db = extra.db ?? (await createTestDatabase());
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot(db.options),
      EventEmitterModule.forRoot({ wildcard: true }),
      FulfilmentModule.forRoot(options),
      ...(extra.imports ?? []),
    ],
    providers: extra.providers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  app.enableShutdownHooks();
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
