import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FULFILMENT_ENTITIES, FULFILMENT_MIGRATIONS, FulfilmentModule, type FulfilmentModuleOptions } from 'nestjs-fulfilment';
import { CheckoutController, HealthController, OrdersController } from './checkout.controller.js';

function fulfilmentOptions(config: ConfigService): FulfilmentModuleOptions {
  const caryrxUrl = config.get<string>('CARYRX_BASE_URL');
  const scriptdropUrl = config.get<string>('SCRIPTDROP_BASE_URL');
  return {
    sandbox: caryrxUrl || scriptdropUrl ? false : { stepMs: Number(config.get<string>('SANDBOX_STEP_MS', '1000')) },
    caryrx: caryrxUrl ? { baseUrl: caryrxUrl, apiKey: config.getOrThrow<string>('CARYRX_API_KEY'), environment: 'development' } : undefined,
    scriptdrop: scriptdropUrl
      ? { baseUrl: scriptdropUrl, apiKey: config.getOrThrow<string>('SCRIPTDROP_API_KEY'), apiSecret: config.getOrThrow<string>('SCRIPTDROP_API_SECRET') }
      : undefined,
    webhooks: {
      publicUrl: config.get<string>('PUBLIC_URL') ?? `http://127.0.0.1:${config.get<string>('PORT', '3000')}`,
      secret: config.getOrThrow<string>('FULFILMENT_WEBHOOK_SECRET'),
    },
    sync: { intervalMs: Number(config.get<string>('FULFILMENT_SYNC_INTERVAL_MS', '30000')) },
  };
}

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        type: 'postgres' as const,
        url: config.getOrThrow<string>('DATABASE_URL'),
        entities: [...FULFILMENT_ENTITIES],
        migrations: [...FULFILMENT_MIGRATIONS],
        migrationsRun: true,
      }),
    }),
    EventEmitterModule.forRoot({ wildcard: true }),
    ScheduleModule.forRoot(),
    FulfilmentModule.forRootAsync({ isGlobal: true, inject: [ConfigService], useFactory: fulfilmentOptions }),
  ],
  controllers: [HealthController, CheckoutController, OrdersController],
})
export class AppModule {}
