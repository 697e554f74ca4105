import { ValidationPipe, type ArgumentMetadata, type ValidationPipeOptions } from '@nestjs/common';
import { FulfilmentValidationError } from './orders/fulfilment-errors.js';
import { MAX_INPUT_DEPTH, toFieldErrors, tooDeepPath } from './validation.js';

/**
 * A ValidationPipe for the host's own routes that answers in the module's envelope: it throws
 * FulfilmentValidationError, which FulfilmentExceptionFilter maps to
 * `400 { message, fields: [{ path, message }] }`, each bad field once by its path from the root of
 * what the client sent (`patient.dob` when a host DTO nests the module's CaryRxPatientInputDto).
 *
 * Defaults: `whitelist`, `forbidNonWhitelisted` (a misspelt field is named, as the module names it
 * in what it sends to a provider), `transform`; any ValidationPipe option overrides them. A value
 * nesting deeper than 32 levels is refused before class-transformer walks it: its recursion would
 * overflow the stack, a 500.
 *
 *     app.useGlobalPipes(new FulfilmentValidationPipe());
 */
export class FulfilmentValidationPipe extends ValidationPipe {
  constructor(options: ValidationPipeOptions = {}) {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => new FulfilmentValidationError('request', toFieldErrors(errors)),
      ...options,
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const deep = tooDeepPath(value);
    if (deep) throw new FulfilmentValidationError('request', [{ path: deep, message: `must not nest deeper than ${MAX_INPUT_DEPTH} levels` }]);
    return super.transform(value, metadata);
  }
}
