import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FulfilmentService } from 'nestjs-fulfilment';

/**
 * Boots the sample host as `npm start` does (configureApp) on a free loopback port that it knows as
 * its public URL, and registers its CaryRx webhooks, whose callbacks come back to it. The app module
 * is loaded here, after the caller set the environment: it reads some of it when it loads.
 */
export async function startSampleHost(): Promise<{ app: INestApplication; port: number }> {
  const { AppModule } = await import('../../apps/sample-host/src/app.module.js');
  const { configureApp } = await import('../../apps/sample-host/src/configure-app.js');
  // A free port first, so the module registers callbacks that come back here.
  const probe = await NestFactory.create(AppModule, { logger: false });
  await probe.listen(0, '127.0.0.1');
  const port = (probe.getHttpServer().address() as { port: number }).port;
  await probe.close();
  process.env.FULFILMENT_PUBLIC_URL = `http://127.0.0.1:${port}`;
  const app = configureApp(await NestFactory.create(AppModule, { logger: ['error'] }));
  await app.listen(port, '127.0.0.1');
  await app.get(FulfilmentService).caryrx.registerWebhooks();
  return { app, port };
}
