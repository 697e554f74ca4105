import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { WebhookResponder } from './webhook-responder.js';
import { WEBHOOK_REQUEST_SOURCE, incomingOf, type WebhookRequest } from './webhook-token.guard.js';

/**
 * Scoped to the webhook controllers: answers what the guard, the pipe or the handler threw through
 * WebhookResponder (rejections as their JSON body, announced; anything unexpected a plain 500, so
 * the provider retries), so the host's own request filters never see webhook internals.
 */
@Catch()
export class WebhookExceptionFilter implements ExceptionFilter {
  constructor(private readonly responder: WebhookResponder) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<WebhookRequest>();
    this.responder.answer(http.getResponse(), incomingOf(req), req[WEBHOOK_REQUEST_SOURCE], exception);
  }
}
