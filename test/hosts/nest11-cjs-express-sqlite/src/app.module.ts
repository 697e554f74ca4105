import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import {
  FULFILMENT_ENTITIES,
  FULFILMENT_MIGRATIONS,
  FulfilmentExceptionFilter,
  FulfilmentModule,
  FulfilmentModuleOptions,
} from 'nestjs-fulfilment';
import { AppController } from './app.controller';
import { PharmacyController } from './pharmacy.controller';

/** Sandbox (both simulators in-process) unless a provider URL is configured. */
export function fulfilmentOptions(config: ConfigService): FulfilmentModuleOptions {
  const port = config.get<string>('PORT', '3000');
  const caryrxUrl = config.get<string>('CARYRX_BASE_URL');
  const scriptdropUrl = config.get<string>('SCRIPTDROP_BASE_URL');
  return {
    sandbox: !caryrxUrl && !scriptdropUrl ? { stepMs: Number(config.get('SANDBOX_STEP_MS', 1000)) } : false,
    caryrx: caryrxUrl ? { baseUrl: caryrxUrl, apiKey: config.getOrThrow<string>('CARYRX_API_KEY'), environment: 'development' } : undefined,
    scriptdrop: scriptdropUrl
      ? { baseUrl: scriptdropUrl, apiKey: config.getOrThrow<string>('SCRIPTDROP_API_KEY'), apiSecret: config.getOrThrow<string>('SCRIPTDROP_API_SECRET') }
      : undefined,
    webhooks: {
      publicUrl: config.get<string>('PUBLIC_URL', `http://127.0.0.1:${port}`),
      secret: config.getOrThrow<string>('FULFILMENT_WEBHOOK_SECRET'),
    },
    sync: { intervalMs: Number(config.get('FULFILMENT_SYNC_INTERVAL_MS', 30000)) },
  };
}

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        type: 'better-sqlite3' as const,
        database: config.get<string>('DATABASE_PATH', 'data/portal.sqlite'),
        entities: [...FULFILMENT_ENTITIES],
        migrations: [...FULFILMENT_MIGRATIONS],
        migrationsRun: true,
        enableWAL: true,
      }),
    }),
    EventEmitterModule.forRoot(),
    ScheduleModule.forRoot(),
    FulfilmentModule.forRootAsync({ isGlobal: true, inject: [ConfigService], useFactory: fulfilmentOptions }),
    // GET /health: terminus with the module's indicator; GET /metrics: prom-client's global
    // registry (default metrics, and the module's, which register there by default).
    TerminusModule,
    PrometheusModule.register(),
  ],
  controllers: [AppController, PharmacyController],
  // The module's errors answer with their documented status and body.
  providers: [{ provide: APP_FILTER, useClass: FulfilmentExceptionFilter }],
})
export class AppModule {}
