import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { FulfilmentValidationPipe } from 'nestjs-fulfilment';

/**
 * Settings shared by main.ts and the e2e tests, so tests run what users run. The module's
 * FulfilmentValidationPipe answers bad input in the module's envelope (`400 { message, fields:
 * [{ path, message }] }`, each path from the body's root, through the module's exception filter)
 * and refuses unknown fields, as the module refuses them in what it sends to a provider. The
 * module's webhook routes validate with their own pipe and tolerate fields the provider adds.
 */
export function configureApp(app: INestApplication): INestApplication {
  app.enableShutdownHooks();
  app.useGlobalPipes(new FulfilmentValidationPipe());
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('nestjs-fulfilment sample host')
      .setDescription('A host API over FulfilmentModule, and the module\'s webhook routes')
      .setVersion('0.1.0')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}
