import { HttpCode, Post, Req, UseFilters, UseGuards, UsePipes, applyDecorators } from '@nestjs/common';
import { WebhookController, WebhookSource } from '../webhooks/webhook-routes.js';
import { WebhookBody, WebhookValidationPipe } from '../webhooks/webhook-body.js';
import { WebhookExceptionFilter } from '../webhooks/webhook-exception.filter.js';
import { WebhookTokenGuard } from '../webhooks/webhook-token.guard.js';
import { CaryRxWebhookHandler, CARYRX_ORDER_TOPIC, CARYRX_PRESCRIPTION_TOPIC } from './caryrx-webhooks.service.js';
import { CaryRxOrderEventBody, CaryRxPrescriptionEventBody } from './caryrx.wire.js';

/**
 * Token (401) → content type (415) → size (413) → JSON object (400) in the intake, ahead of the
 * body parsers (see WebhookFrontDoor; the guard makes sure they held); field validation (400) in
 * the controller-level pipe, which drops unknown vendor fields instead of refusing them; rejections
 * answered and announced by WebhookResponder.
 */
const CaryRxWebhook = (subPath: string, topic: string) =>
  applyDecorators(
    WebhookController(subPath),
    WebhookSource('caryrx', topic),
    UseGuards(WebhookTokenGuard),
    UsePipes(WebhookValidationPipe),
    UseFilters(WebhookExceptionFilter),
  );

interface RawRequest {
  body: unknown;
}

/** `POST /{routePrefix}/webhooks/caryrx/prescriptions` */
@CaryRxWebhook('caryrx/prescriptions', CARYRX_PRESCRIPTION_TOPIC)
export class CaryRxPrescriptionWebhookController {
  constructor(private readonly handler: CaryRxWebhookHandler) {}

  @Post()
  @HttpCode(200)
  async receive(@WebhookBody() body: CaryRxPrescriptionEventBody, @Req() req: RawRequest) {
    const receipt = await this.handler.prescriptionEvent(body, req.body);
    return { received: true, ...receipt };
  }
}

/** `POST /{routePrefix}/webhooks/caryrx/orders` */
@CaryRxWebhook('caryrx/orders', CARYRX_ORDER_TOPIC)
export class CaryRxOrderWebhookController {
  constructor(private readonly handler: CaryRxWebhookHandler) {}

  @Post()
  @HttpCode(200)
  async receive(@WebhookBody() body: CaryRxOrderEventBody, @Req() req: RawRequest) {
    const receipt = await this.handler.orderEvent(body, req.body);
    return { received: true, ...receipt };
  }
}
