import { Logger, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { FulfilmentService, ProviderEndpoints } from 'nestjs-fulfilment';
import { AppModule } from './app.module';

async function bootstrap() {
  const app = await NestFactory.create<NestExpressApplication>(AppModule);
  const http = new Logger('HTTP');
  // Access log: method, path (never the query string: webhook callbacks carry a token there), status.
  app.use((req: { method: string; originalUrl: string }, res: { statusCode: number; on(e: string, f: () => void): void }, next: () => void) => {
    const started = Date.now();
    res.on('finish', () => http.log(`${req.method} ${req.originalUrl.split('?')[0]} ${res.statusCode} ${Date.now() - started}ms`));
    next();
  });
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, transform: true }));
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, process.env.HOST ?? '0.0.0.0');
  Logger.log(`listening on ${port}`, 'Bootstrap');
  if (app.get(ProviderEndpoints).caryrx) {
    const registered = await app.get(FulfilmentService).caryrx.registerWebhooks();
    Logger.log(`registered CaryRx webhooks: ${registered.map((r) => r.topic).join(', ')}`, 'Bootstrap');
  }
}
bootstrap();
