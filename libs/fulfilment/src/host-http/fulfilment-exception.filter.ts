import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { FulfilmentError } from '../orders/fulfilment-errors.js';
import { toHttpError } from './to-http-error.js';

/**
 * Answers every error the module throws with its documented status and JSON body (toHttpError).
 * Register it once in the host: `{ provide: APP_FILTER, useClass: FulfilmentExceptionFilter }`, or
 * `app.useGlobalFilters(new FulfilmentExceptionFilter(app.get(HttpAdapterHost)))`. Other errors
 * are not caught, so the host's own filters and Nest's default answer them as before.
 *
 * Written through the HTTP adapter (not `res.json()`), so express and Fastify answer the same.
 */
@Catch(FulfilmentError)
export class FulfilmentExceptionFilter implements ExceptionFilter<FulfilmentError> {
  private readonly logger = new Logger('Fulfilment:Http');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: FulfilmentError, host: ArgumentsHost): void {
    // RPC, WebSockets, GraphQL: not an HTTP answer to give; the error goes on untouched.
    if (host.getType() !== 'http') throw error;
    const answer = toHttpError(error)!;
    if (answer.statusCode >= 500) {
      // The operator's side of a 5xx: one line, no stack. Messages carry no secret or patient value.
      const cause = error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '';
      this.logger.warn(`${answer.statusCode} ${error.name}: ${error.message}${cause}`);
    }
    const adapter = this.adapterHost.httpAdapter;
    const response = host.switchToHttp().getResponse<unknown>();
    if (adapter.isHeadersSent(response)) return;
    for (const [name, value] of Object.entries(answer.headers)) adapter.setHeader(response, name, value);
    adapter.reply(response, answer.body, answer.statusCode);
  }
}
