import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FulfilmentModule } from 'nestjs-fulfilment';
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
})
export class AppModule {}
