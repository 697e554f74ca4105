import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { Logger } from '@nestjs/common';
import { FulfilmentService, ProviderEndpoints } from 'nestjs-fulfilment';
import { AppModule } from './app.module.js';
import { configureApp } from './configure-app.js';

/** `http://host:port` of the socket actually bound, so the log never claims an address it is not on. */
function boundUrl(address: AddressInfo): string {
  const all = address.address === '::' || address.address === '0.0.0.0';
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}${all ? ' (every interface)' : ''}`;
}

async function bootstrap(): Promise<void> {
  const app = configureApp(await NestFactory.create(AppModule, { bufferLogs: false }));
  const port = Number(process.env.PORT ?? 3000);
  const sandbox = Boolean(app.get(ProviderEndpoints).sandbox);
  // Sandbox is for one machine: loopback unless HOST says otherwise. Outside it, Node's default
  // (every interface), as a service behind a load balancer or in a container needs.
  const host = process.env.HOST || (sandbox ? '127.0.0.1' : undefined);
  await (host ? app.listen(port, host) : app.listen(port));
  const logger = new Logger('SampleHost');
  logger.log(`listening on ${boundUrl(app.getHttpServer().address() as AddressInfo)} (health: /health, API docs: /docs)`);
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
