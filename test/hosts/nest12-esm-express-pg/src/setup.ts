import { Logger, ValidationPipe, type INestApplication } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import { FulfilmentExceptionFilter } from 'nestjs-fulfilment';

/** What main.ts and the e2e tests both apply. */
export function setupApp(app: INestApplication): INestApplication {
  const access = new Logger('HTTP');
  // Path only: the query string of a webhook callback is its token.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = Date.now();
    res.on('finish', () => access.log(`${req.method} ${req.path} ${res.statusCode} ${Date.now() - started}ms`));
    next();
  });
  // Strict, as many hosts are: unknown fields are refused, not stripped.
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }));
  // The module's errors answer with their documented status and body.
  app.useGlobalFilters(new FulfilmentExceptionFilter(app.get(HttpAdapterHost)));
  app.enableShutdownHooks();
  return app;
}
