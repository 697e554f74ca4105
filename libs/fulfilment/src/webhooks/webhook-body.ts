import { BadRequestException, Injectable, ValidationPipe, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { toFieldErrors, type FieldError } from '../validation.js';

/**
 * The 400 of the webhook routes, for a body that does not parse as well as for its fields:
 * `{ statusCode: 400, message, fields: [{ path, message }] }`, each path from the body's root
 * (`(body)` for the whole of it), never a value.
 */
export function invalidWebhookBody(fields: FieldError[], message = `invalid webhook body: ${fields.map((f) => `${f.path} ${f.message}`).join('; ')}`): BadRequestException {
  return new BadRequestException({ statusCode: 400, message, fields });
}

const webhookBody = createParamDecorator((_data: unknown, ctx: ExecutionContext) => ctx.switchToHttp().getRequest<{ body?: unknown }>().body);

/** Which parameter of a handler is its webhook body (the OpenAPI description shows that parameter's class). */
export const WEBHOOK_BODY_PARAM = 'fulfilment:webhook-body-param';

/**
 * The webhook body, validated by WebhookValidationPipe against the parameter's class. A custom
 * parameter decorator on purpose: a host's global ValidationPipe skips custom decorators (unless it
 * sets validateCustomDecorators), so a strict global `forbidNonWhitelisted` cannot reject fields
 * the provider adds to its events.
 */
export const WebhookBody = (): ParameterDecorator => (target, key, index) => {
  Reflect.defineMetadata(WEBHOOK_BODY_PARAM, index, target, key!);
  webhookBody()(target, key, index);
};

/**
 * Controller-level pipe of the webhook controllers: unknown vendor fields are dropped (whitelist)
 * rather than refused; a wrong or missing field is a 400 that names each bad field path once, with
 * the first rule it broke (never a value).
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
      exceptionFactory: (errors) => invalidWebhookBody(toFieldErrors(errors)),
    });
  }
}
