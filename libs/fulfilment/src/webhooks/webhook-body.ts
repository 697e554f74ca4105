import { BadRequestException, Injectable, ValidationPipe, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { flattenValidationErrors } from '../validation.js';

/**
 * The webhook body, validated by WebhookValidationPipe. A custom parameter decorator on purpose:
 * a host's global ValidationPipe skips custom decorators (unless it sets validateCustomDecorators),
 * so a strict global `forbidNonWhitelisted` cannot reject fields the provider adds to its events.
 */
export const WebhookBody = createParamDecorator((_data: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<{ body?: unknown }>().body);

/**
 * Controller-level pipe of the webhook controllers: unknown vendor fields are dropped (whitelist)
 * rather than refused; a wrong or missing field is a 400 that names every bad field path (never a
 * value).
 */
@Injectable()
export class WebhookValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: false,
      transform: true,
      validateCustomDecorators: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) =>
        new BadRequestException({ statusCode: 400, message: 'invalid webhook body', fields: flattenValidationErrors(errors) }),
    });
  }
}
