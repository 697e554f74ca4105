import { Catch, HttpException, Logger, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { FulfilmentEvents, type WebhookRejectedEvent } from '../orders/fulfilment-events.js';
import { WEBHOOK_REQUEST_SOURCE, type WebhookSourceInfo } from './webhook-token.guard.js';

interface HttpResponseLike {
  status(code: number): HttpResponseLike;
  json(body: unknown): void;
  headersSent?: boolean;
}

const REASONS: Record<number, string> = { 400: 'invalid_body', 401: 'unauthorized', 413: 'too_large' };

/**
 * Scoped to the webhook controllers: answers rejections as JSON (401/400/413), emits
 * `fulfilment.webhook.rejected` for them, and keeps anything unexpected a plain 500 (the provider
 * retries) so the host's own request filters never see webhook internals.
 */
@Catch()
export class WebhookExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Fulfilment:Webhooks');

  constructor(@Optional() private readonly events?: EventEmitter2) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const res = http.getResponse<HttpResponseLike>();
    const req = http.getRequest<{ [WEBHOOK_REQUEST_SOURCE]?: WebhookSourceInfo }>();
    const source = req[WEBHOOK_REQUEST_SOURCE];

    if (!(exception instanceof HttpException)) {
      this.logger.error(`${source?.topic ?? 'webhook'}: could not be stored: ${(exception as Error)?.message ?? 'unknown error'}`);
      if (!res.headersSent) res.status(500).json({ statusCode: 500, message: 'webhook could not be stored' });
      return;
    }
    const status = exception.getStatus();
    const body = exception.getResponse();
    const reason = REASONS[status];
    if (reason && source) {
      const fields = typeof body === 'object' && body && 'fields' in body ? (body.fields as Array<{ path: string }>).map((f) => f.path) : undefined;
      const event: WebhookRejectedEvent = { provider: source.provider, topic: source.topic, reason, fields, occurredAt: new Date() };
      try {
        this.events?.emit(FulfilmentEvents.WebhookRejected, event);
      } catch (err) {
        this.logger.error(`a listener of ${FulfilmentEvents.WebhookRejected} threw: ${(err as Error).message}`);
      }
      this.logger.warn(`${source.topic}: rejected (${reason}${fields ? `: ${fields.join(', ')}` : ''})`);
    }
    if (!res.headersSent) res.status(status).json(typeof body === 'string' ? { statusCode: status, message: body } : body);
  }
}
