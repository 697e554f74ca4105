import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { FulfilmentExceptionFilter, FulfilmentModule } from 'nestjs-fulfilment';
import { databaseOptionsFromUrl } from './database.js';
import { fulfilmentOptionsFromEnv } from './fulfilment-config.js';
import { HealthController } from './health.controller.js';
import { OrdersController } from './orders.controller.js';
import { CheckoutController } from './checkout.controller.js';
import { OrderEventsListener } from './order-events.listener.js';
import { MetricsController } from './metrics.controller.js';
import { APP_FILTER } from '@nestjs/core';
import { opsConsoleFromEnv } from './ops-basic-auth.guard.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => databaseOptionsFromUrl(config.get<string>('DATABASE_URL') || undefined),
    }),
    EventEmitterModule.forRoot(),
    // Once, here in the host: the module registers its sync job through SchedulerRegistry.
    ScheduleModule.forRoot(),
    TerminusModule,
    FulfilmentModule.forRootAsync({
      isGlobal: true,
      inject: [ConfigService],
      useFactory: fulfilmentOptionsFromEnv,
      // The ops console at /ops behind HTTP Basic when OPS_BASIC_AUTH=user:password is set (read when this module loads).
      ops: opsConsoleFromEnv(),
    }),
  ],
  controllers: [HealthController, CheckoutController, OrdersController, MetricsController],
  // The module's typed errors answer with their documented status and body (README, "Errors").
  providers: [OrderEventsListener, { provide: APP_FILTER, useClass: FulfilmentExceptionFilter }],
})
export class AppModule {}
