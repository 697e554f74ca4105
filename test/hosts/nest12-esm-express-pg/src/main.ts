import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FulfilmentService, ProviderEndpoints } from 'nestjs-fulfilment';
import { AppModule } from './app.module.js';
import { setupApp } from './setup.js';

async function bootstrap(): Promise<void> {
  const app = setupApp(await NestFactory.create<NestExpressApplication>(AppModule));
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '0.0.0.0');
  const logger = new Logger('Bootstrap');
  logger.log(`listening on ${port}`);
  if (app.get(ProviderEndpoints).caryrx) {
    const registered = await app.get(FulfilmentService).caryrx.registerWebhooks();
    logger.log(`registered CaryRx webhooks: ${registered.map((r) => r.topic).join(', ')}`);
  }
}

bootstrap().catch((err: unknown) => {
  console.error(`clinic backend failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
