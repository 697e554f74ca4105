import { HttpException, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { FulfilmentEventBus } from '../orders/fulfilment-event-bus.js';
import { FulfilmentEvents, type WebhookRejectedEvent } from '../orders/fulfilment-events.js';
import { FULFILMENT_METRICS } from '../fulfilment.constants.js';
import type { WebhookObserver } from './webhook-inbox.js';
import type { WebhookSourceInfo } from './webhook-routes.js';
import { WebhookActivity } from './webhook-activity.js';

const REASONS: Record<number, string> = { 400: 'invalid_body', 401: 'unauthorized', 413: 'too_large', 415: 'unsupported_media_type' };

/**
 * Answers webhook requests that are not accepted, wherever they are stopped (the front door ahead
 * of the body parsers, or the exception filter): a rejection (HttpException) as its JSON body, logged
 * without values and announced as `fulfilment.webhook.rejected`; anything else as a plain 500 (the
 * provider delivers again). Written through the app's HTTP adapter, so express and Fastify send the
 * same status and body.
 */
@Injectable()
export class WebhookResponder {
  private readonly logger = new Logger('Fulfilment:Webhooks');

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly events: FulfilmentEventBus,
    private readonly activity: WebhookActivity,
    @Optional() @Inject(FULFILMENT_METRICS) private readonly observer?: WebhookObserver | null,
  ) {}

  /**
   * `response` is the adapter's own response object (express Response, Fastify reply); `headers`
   * are set on the answer (e.g. `allow` on a 405).
   */
  answer(response: unknown, request: IncomingMessage, source: WebhookSourceInfo | undefined, error: unknown, headers: Record<string, string> = {}): void {
    if (!(error instanceof HttpException)) {
      if (source) this.observer?.webhookHandled(source.provider, source.topic, 'error');
      this.logger.error(`${source?.topic ?? 'webhook'}: could not be stored: ${(error as Error)?.message ?? 'unknown error'}`);
      return this.send(response, request, 500, { statusCode: 500, message: 'webhook could not be stored' });
    }
    const status = error.getStatus();
    const body = error.getResponse();
    const reason = REASONS[status];
    if (source) this.observer?.webhookHandled(source.provider, source.topic, reason ?? 'rejected');
    if (reason && source) {
      const fields = typeof body === 'object' && 'fields' in body ? (body.fields as Array<{ path: string }>).map((f) => f.path) : undefined;
      const event: WebhookRejectedEvent = { provider: source.provider, topic: source.topic, reason, fields, occurredAt: new Date() };
      this.events.emit(FulfilmentEvents.WebhookRejected, event);
      this.activity.record({ kind: 'rejected', provider: source.provider, topic: source.topic, entityId: null, reason, fields: fields ?? [], at: event.occurredAt });
      this.logger.warn(`${source.topic}: rejected (${reason}${fields ? `: ${fields.join(', ')}` : ''})`);
    }
    this.send(response, request, status, typeof body === 'string' ? { statusCode: status, message: body } : body, headers);
  }

  private send(response: unknown, request: IncomingMessage, status: number, body: object, headers: Record<string, string> = {}): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter.isHeadersSent(response)) return;
    for (const [name, value] of Object.entries(headers)) adapter.setHeader(response, name, value);
    if (!request.complete) lingerThenClose(request);
    adapter.reply(response, body, status);
  }
}

/** How long a refused request's body may keep arriving (discarded) after the answer. */
const LINGER_MS = 2_000;

/**
 * Answered before its body arrived (a refusal): the rest is read and thrown away, never kept, for
 * up to LINGER_MS, then the connection is cut. Closing at once would reset a connection the client
 * is still writing to, and a reset can reach it before the answer does (it then sees no answer);
 * an unauthenticated client still cannot keep streaming into the app.
 */
function lingerThenClose(request: IncomingMessage): void {
  const cut = setTimeout(() => request.socket?.destroy(), LINGER_MS);
  cut.unref();
  const done = () => clearTimeout(cut);
  request.once('end', done).once('close', done);
  request.resume();
}
