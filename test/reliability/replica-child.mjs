// A second replica in a process of its own, for replica-kill.spec.ts: boots the BUILT library
// (libs/fulfilment/dist, `npm run build`) on the test's database, announces its lease owner id,
// then runs one status-sync tick, which the test's simulator holds in flight until the test
// SIGKILLs this process. Configuration arrives as JSON in REPLICA_CONFIG.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { FulfilmentModule, FULFILMENT_ENTITIES, StatusSyncService } from '../../libs/fulfilment/dist/esm/index.js';

const config = JSON.parse(process.env.REPLICA_CONFIG ?? '{}');

// Every level, one line each, to stdout: the parent scans these lines for leaked values too.
const write = (level) => (message, ...params) => {
  const context = params.length > 0 && typeof params[params.length - 1] === 'string' ? ` [${params.pop()}]` : '';
  const rest = params.map((p) => (p instanceof Error ? p.stack : typeof p === 'string' ? p : JSON.stringify(p))).join(' ');
  process.stdout.write(`child ${level}${context} ${typeof message === 'string' ? message : JSON.stringify(message)}${rest ? ` ${rest}` : ''}\n`);
};
const logger = { log: write('log'), error: write('error'), warn: write('warn'), debug: write('debug'), verbose: write('verbose'), fatal: write('fatal') };

const common = { entities: [...FULFILMENT_ENTITIES], migrationsRun: false, synchronize: false, logging: false };
const database =
  config.db.type === 'postgres'
    ? { ...common, type: 'postgres', url: config.db.url, schema: config.db.schema, extra: { options: `-c search_path=${config.db.schema}` } }
    : {
        ...common,
        type: 'better-sqlite3',
        database: config.db.database,
        enableWAL: true,
        prepareDatabase: (db) => {
          db.pragma('synchronous = NORMAL');
          db.pragma('foreign_keys = ON');
          db.pragma('busy_timeout = 5000');
        },
      };

class ReplicaModule {}
Module({
  imports: [TypeOrmModule.forRoot(database), EventEmitterModule.forRoot(), FulfilmentModule.forRoot(config.fulfilment)],
})(ReplicaModule);

const app = await NestFactory.createApplicationContext(ReplicaModule, { logger });
const sync = app.get(StatusSyncService);
process.stdout.write(`READY ${sync.instanceId}\n`);
const report = await sync.runOnce();
// Reached only if the test failed to kill this process mid-tick.
process.stdout.write(`TICK_DONE ${JSON.stringify({ claimed: report.claimed, changed: report.changed })}\n`);
await app.close();
