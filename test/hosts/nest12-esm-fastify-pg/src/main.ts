import 'reflect-metadata';
import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { FulfilmentService, ProviderEndpoints } from 'nestjs-fulfilment';
import { AppModule } from './app.module.js';

const app = await NestFactory.create<NestFastifyApplication>(AppModule, new FastifyAdapter());
const access = new Logger('HTTP');
// Access log without the query string (webhook callbacks carry their token there).
app
  .getHttpAdapter()
  .getInstance()
  .addHook('onResponse', async (req, reply) => {
    access.log(`${req.method} ${req.url.split('?')[0]} ${reply.statusCode} ${Math.round(reply.elapsedTime)}ms`);
  });
app.useGlobalPipes(new ValidationPipe({ transform: true }));
app.enableShutdownHooks();
const port = Number(process.env.PORT ?? 3000);
await app.listen(port, process.env.HOST ?? '0.0.0.0');
Logger.log(`listening on ${port}`, 'Bootstrap');
if (app.get(ProviderEndpoints).caryrx) {
  const registered = await app.get(FulfilmentService).caryrx.registerWebhooks();
  Logger.log(`registered CaryRx webhooks: ${registered.map((r) => r.topic).join(', ')}`, 'Bootstrap');
}
