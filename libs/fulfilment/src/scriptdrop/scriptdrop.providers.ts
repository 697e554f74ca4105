import type { Provider, Type } from '@nestjs/common';
import { ScriptDropFulfilment } from './scriptdrop-fulfilment.service.js';
import { ScriptDropService } from './scriptdrop.service.js';

/** What this folder adds to FulfilmentModule: its providers, the ones hosts may inject, its webhook controllers. */
export const SCRIPTDROP_MODULE_PARTS: { providers: Provider[]; exports: Array<Type | symbol | string>; webhookControllers: Type[] } = {
  providers: [ScriptDropService, ScriptDropFulfilment],
  exports: [ScriptDropService, ScriptDropFulfilment],
  // ScriptDrop documents no webhooks: status comes from polling (the status sync).
  webhookControllers: [],
};
