import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { WEBHOOK_ADMITTED, type AdmittedRequest } from './webhook-front-door.js';
import { WebhookIntake } from './webhook-intake.js';
import { webhookSourceOf, type WebhookSourceInfo } from './webhook-routes.js';

/** Where the guard leaves the source on the request, for the exception filter. */
export const WEBHOOK_REQUEST_SOURCE = Symbol('fulfilment.webhookSource');

export type WebhookRequest = AdmittedRequest & {
  url?: string;
  headers: IncomingHttpHeaders;
  rawBody?: Buffer;
  /** Fastify's request wraps the IncomingMessage; express's is it. */
  raw?: IncomingMessage;
  [WEBHOOK_REQUEST_SOURCE]?: WebhookSourceInfo;
};

/** The IncomingMessage of a framework request. */
export const incomingOf = (req: WebhookRequest): IncomingMessage => req.raw ?? (req as unknown as IncomingMessage);

/**
 * The webhook routes' guard: names the route's source for the exception filter and makes sure
 * every WebhookIntake rule (token 401, content type 415, size 413, JSON object 400) held. The
 * front door applies them ahead of the body parsers on express and Fastify; on another adapter
 * they are applied here, to the unread body (read with the same cap) or to what a parser made of it.
 */
@Injectable()
export class WebhookTokenGuard implements CanActivate {
  constructor(private readonly intake: WebhookIntake) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<WebhookRequest>();
    const source = webhookSourceOf(context.getClass());
    if (source) req[WEBHOOK_REQUEST_SOURCE] = source;
    if (req[WEBHOOK_ADMITTED]) return true;

    const stream = incomingOf(req);
    const unread = req.body === undefined && stream.readable && !stream.readableEnded;
    req.body = unread ? await this.intake.take(req, stream) : this.intake.accept(req, req.body, req.rawBody?.length);
    return true;
  }
}
