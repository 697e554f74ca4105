import type { Provider, Type } from '@nestjs/common';
import { CARYRX_HTTP_CLIENT, RESOLVED_OPTIONS, SCRIPTDROP_HTTP_CLIENT } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import type { ProviderHttpClient } from '../http/provider-http-client.js';
import { CaryRxService } from '../caryrx/caryrx.service.js';
import { ScriptDropService } from '../scriptdrop/scriptdrop.service.js';
import { CaryRxReconciliation } from '../caryrx/caryrx-reconciliation.js';
import {
  CaryRxStatusReader,
  PROVIDER_STATUS_READERS,
  ScriptDropStatusReader,
  UNKNOWN_ORDER_RECONCILERS,
  type ProviderStatusReader,
  type UnknownOrderReconciler,
} from './provider-status-readers.js';
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

/** CaryRx lists a patient's orders, so its unknown orders are reconciled; ScriptDrop documents no search (an operator resolves them). */
const reconcilers: Provider = {
  provide: UNKNOWN_ORDER_RECONCILERS,
  inject: [CARYRX_HTTP_CLIENT, CaryRxReconciliation],
  useFactory: (caryrxClient: ProviderHttpClient | null, caryrx: CaryRxReconciliation): UnknownOrderReconciler[] =>
    caryrxClient
      ? [{ provider: 'caryrx', reconcileDue: async (owner) => [...(await caryrx.reconcileDue(owner)).values()].filter((o) => o === 'linked' || o === 'not_created').length }]
      : [],
};

/** What this folder adds to FulfilmentModule: its providers, the ones hosts may inject, its webhook controllers. */
export const SYNC_MODULE_PARTS: { providers: Provider[]; exports: Array<Type | symbol | string>; webhookControllers: Type[] } = {
  providers: [statusReaders, reconcilers, StatusSyncService],
  exports: [StatusSyncService],
  webhookControllers: [],
};
