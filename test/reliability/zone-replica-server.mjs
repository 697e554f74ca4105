// A replica serving webhooks in a process of its own, for webhook-load-zones.spec.ts: boots the
// BUILT library (libs/fulfilment/dist, `npm run build`) over HTTP on the test's PostgreSQL schema,
// with the TZ the test gave this process, prints `READY <port> <time zone>`, and serves until
// SIGTERM. Configuration arrives as JSON in REPLICA_CONFIG. Log lines go to stdout, one each, so the
// parent scans them for leaked values too.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { FulfilmentModule, FULFILMENT_ENTITIES } from '../../libs/fulfilment/dist/esm/index.js';

const config = JSON.parse(process.env.REPLICA_CONFIG ?? '{}');

const write = (level) => (message) => process.stdout.write(`child ${level} ${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
const logger = { log: write('log'), error: write('error'), warn: write('warn'), debug: () => undefined, verbose: () => undefined, fatal: write('fatal') };

class ReplicaModule {}
Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: config.url,
      schema: config.schema,
      extra: { options: `-c search_path=${config.schema}` },
      entities: [...FULFILMENT_ENTITIES],
      migrationsRun: false,
      synchronize: false,
      logging: false,
    }),
    EventEmitterModule.forRoot(),
    FulfilmentModule.forRoot(config.fulfilment),
  ],
})(ReplicaModule);

const app = await NestFactory.create(ReplicaModule, { logger });
app.enableShutdownHooks();
await app.listen(0, '127.0.0.1');
process.stdout.write(`READY ${app.getHttpServer().address().port} ${Intl.DateTimeFormat().resolvedOptions().timeZone}\n`);
