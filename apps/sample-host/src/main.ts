import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { Logger } from '@nestjs/common';
import { FulfilmentService, ProviderEndpoints } from 'nestjs-fulfilment';
import { AppModule } from './app.module.js';
import { configureApp } from './configure-app.js';

async function bootstrap(): Promise<void> {
  const app = configureApp(await NestFactory.create(AppModule, { bufferLogs: false }));
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const logger = new Logger('SampleHost');
  logger.log(`listening on http://127.0.0.1:${port} (health: /health, API docs: /docs)`);
  // CaryRx posts events to the callbacks registered here (re-registering is harmless).
  if (app.get(ProviderEndpoints).caryrx && process.env.FULFILMENT_REGISTER_WEBHOOKS !== 'false') {
    const registrations = await app.get(FulfilmentService).caryrx.registerWebhooks();
    logger.log(`registered CaryRx webhooks: ${registrations.map((r) => r.topic).join(', ')}`);
  }
}

bootstrap().catch((err: unknown) => {
  // Configuration problems are printed as they are (they name paths, never secret values).
  console.error(`sample host failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
