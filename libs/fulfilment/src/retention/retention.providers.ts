import type { Provider, Type } from '@nestjs/common';
import { RetentionService } from './retention.service.js';

/** What this folder adds to FulfilmentModule: its providers, the ones hosts may inject, its webhook controllers. */
export const RETENTION_MODULE_PARTS: { providers: Provider[]; exports: Array<Type | symbol | string>; webhookControllers: Type[] } = {
  providers: [RetentionService],
  exports: [RetentionService],
  webhookControllers: [],
};
