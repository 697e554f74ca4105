import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FulfilmentExceptionFilter, FulfilmentModule } from 'nestjs-fulfilment';
import { databaseOptions, fulfilmentOptions } from './config.js';
import { DispatchController } from './dispatch.controller.js';

// No @nestjs/event-emitter in this host: the module's events are optional.
@Module({
  imports: [
    TypeOrmModule.forRootAsync({ useFactory: databaseOptions }),
    ScheduleModule.forRoot(),
    FulfilmentModule.forRootAsync({ useFactory: fulfilmentOptions }),
  ],
  controllers: [DispatchController],
  // The module's errors answer with their documented status and body, on Fastify as on express.
  providers: [{ provide: APP_FILTER, useClass: FulfilmentExceptionFilter }],
})
export class AppModule {}
