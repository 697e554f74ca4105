import type { Provider, Type } from '@nestjs/common';
import { CaryRxFulfilment } from './caryrx-fulfilment.service.js';
import { CaryRxReconciliation } from './caryrx-reconciliation.js';
import { CaryRxOrderWebhookController, CaryRxPrescriptionWebhookController } from './caryrx-webhooks.controller.js';
import { CaryRxWebhookHandler } from './caryrx-webhooks.service.js';
import { CaryRxService } from './caryrx.service.js';

/** What this folder adds to FulfilmentModule: its providers, the ones hosts may inject, its webhook controllers. */
export const CARYRX_MODULE_PARTS: { providers: Provider[]; exports: Array<Type | symbol | string>; webhookControllers: Type[] } = {
  providers: [CaryRxService, CaryRxFulfilment, CaryRxWebhookHandler, CaryRxReconciliation],
  exports: [CaryRxService, CaryRxFulfilment],
  webhookControllers: [CaryRxPrescriptionWebhookController, CaryRxOrderWebhookController],
};
