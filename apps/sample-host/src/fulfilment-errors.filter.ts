import { Catch, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import {
  FulfilmentConfigurationError,
  FulfilmentNotFoundError,
  FulfilmentValidationError,
  OrderOutcomeUnknownError,
  ProviderError,
  ProviderRateLimitError,
  ProviderValidationError,
  ProviderConflictError,
} from 'nestjs-fulfilment';

/**
 * Turns the module's typed errors into clear HTTP answers for the host API. Messages carry field
 * paths and provider messages only: the module never puts patient data in them.
 */
@Catch(FulfilmentValidationError, FulfilmentNotFoundError, FulfilmentConfigurationError, OrderOutcomeUnknownError, ProviderError)
export class FulfilmentErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('SampleHost');

  catch(error: Error, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const [status, body] = this.describe(error);
    if (status >= 500) this.logger.warn(`${error.name}: ${error.message}`);
    res.status(status).json({ statusCode: status, ...body });
  }

  private describe(error: Error): [number, Record<string, unknown>] {
    if (error instanceof FulfilmentValidationError) {
      return [HttpStatus.BAD_REQUEST, { error: 'Bad Request', message: error.message, fields: error.fields }];
    }
    if (error instanceof FulfilmentNotFoundError) return [HttpStatus.NOT_FOUND, { error: 'Not Found', message: error.message }];
    if (error instanceof FulfilmentConfigurationError) {
      return [HttpStatus.UNPROCESSABLE_ENTITY, { error: 'Unprocessable Entity', message: error.message }];
    }
    if (error instanceof OrderOutcomeUnknownError) {
      // The order is stored as `unknown` and was not re-sent: accepted for reconciliation.
      return [HttpStatus.ACCEPTED, { orderId: error.orderId, status: 'unknown', message: error.message }];
    }
    if (error instanceof ProviderValidationError || error instanceof ProviderConflictError) {
      return [HttpStatus.CONFLICT, { error: 'Refused by provider', provider: error.provider, message: error.providerMessage ?? error.message }];
    }
    if (error instanceof ProviderRateLimitError) {
      return [HttpStatus.SERVICE_UNAVAILABLE, { error: 'Provider rate limit', provider: error.provider, message: error.message }];
    }
    const providerError = error as ProviderError;
    return [HttpStatus.BAD_GATEWAY, { error: 'Provider error', provider: providerError.provider, message: providerError.message }];
  }
}
