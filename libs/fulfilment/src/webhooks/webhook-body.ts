import { BadRequestException, Injectable, ValidationPipe, createParamDecorator, type ArgumentMetadata, type ExecutionContext } from '@nestjs/common';
import { toFieldErrors, type FieldError } from '../validation.js';
import { compileBodyCheck } from './compiled-body-check.js';

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
 *
 * Fast path: the body class's compiled check (compiled-body-check.ts, read from the same
 * decorators) accepts a valid body without class-transformer or class-validator. Whatever it does
 * not accept goes through ValidationPipe as before, so every 400 is class-validator's own.
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

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const check = metadata.metatype && !this.expectedType && this.toValidate(metadata) ? compileBodyCheck(metadata.metatype) : undefined;
    if (check) {
      // The in-place clean-up ValidationPipe does to the body first (prototype keys, array gaps):
      // the raw body goes on to the handler (hashed for the dedup key), so it must match either way.
      // closeArrayGaps is Nest 12's; Nest 11 has no such step.
      this.closeArrayGaps?.(value);
      this.stripProtoKeys(value);
      const result = check(value);
      if (result.ok) return result.value;
    }
    return super.transform(value, metadata);
  }
}
