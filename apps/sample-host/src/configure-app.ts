import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * Settings shared by main.ts and the e2e tests, so tests run what users run. The global pipe
 * strips unknown fields but does not forbid them; the module's webhook routes validate with their
 * own pipe and tolerate fields the provider adds either way.
 */
export function configureApp(app: INestApplication): INestApplication {
  app.enableShutdownHooks();
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, transform: true }));
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
