import type { Provider, Type } from '@nestjs/common';
import { CARYRX_HTTP_CLIENT, RESOLVED_OPTIONS, SCRIPTDROP_HTTP_CLIENT } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import type { ProviderHttpClient } from '../http/provider-http-client.js';
import { CaryRxService } from '../caryrx/caryrx.service.js';
import { ScriptDropService } from '../scriptdrop/scriptdrop.service.js';
import { CaryRxStatusReader, PROVIDER_STATUS_READERS, ScriptDropStatusReader, type ProviderStatusReader } from './provider-status-readers.js';
import { StatusSyncService } from './status-sync.service.js';

/** One reader per configured provider: a provider whose HTTP client is null is not synced. */
const statusReaders: Provider = {
  provide: PROVIDER_STATUS_READERS,
  inject: [RESOLVED_OPTIONS, CARYRX_HTTP_CLIENT, SCRIPTDROP_HTTP_CLIENT, CaryRxService, ScriptDropService],
  useFactory: (
    options: ResolvedFulfilmentOptions,
    caryrxClient: ProviderHttpClient | null,
    scriptdropClient: ProviderHttpClient | null,
    caryrx: CaryRxService,
    scriptdrop: ScriptDropService,
  ): ProviderStatusReader[] => [
    ...(caryrxClient ? [new CaryRxStatusReader(caryrx, options.sync.concurrency)] : []),
    ...(scriptdropClient ? [new ScriptDropStatusReader(scriptdrop, options.sync.batchSize, options.sync.concurrency)] : []),
  ],
};

/** What this folder adds to FulfilmentModule: its providers, the ones hosts may inject, its webhook controllers. */
export const SYNC_MODULE_PARTS: { providers: Provider[]; exports: Array<Type | symbol | string>; webhookControllers: Type[] } = {
  providers: [statusReaders, StatusSyncService],
  exports: [StatusSyncService],
  webhookControllers: [],
};
