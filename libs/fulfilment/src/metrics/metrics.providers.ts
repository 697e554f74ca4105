import { Logger, type Provider } from '@nestjs/common';
import { FULFILMENT_METRICS, PROVIDER_ENDPOINTS, RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import type { ProviderName } from '../http/provider-errors.js';
import { OrderStore } from '../orders/order-store.js';
import type { ProviderEndpoints } from '../provider-endpoints.js';
import { FulfilmentMetrics } from './fulfilment-metrics.js';

/** The providers the status sync reads: the configured ones. */
export const syncedProviders = (endpoints: ProviderEndpoints): ProviderName[] =>
  (['caryrx', 'scriptdrop'] as const).filter((provider) => endpoints[provider] !== undefined);

/**
 * The module's metrics, or null: with `metrics: false`, or when prom-client (an optional peer) is
 * not installed. Loaded with import() so a host without it boots.
 */
async function createMetrics(options: ResolvedFulfilmentOptions, store: OrderStore, endpoints: ProviderEndpoints): Promise<FulfilmentMetrics | null> {
  if (options.metrics === false) return null;
  const prom = await import('prom-client').catch(() => undefined);
  if (!prom) {
    const logger = new Logger('Fulfilment:Metrics');
    if (options.metrics.registry) logger.warn('metrics.registry is set but prom-client cannot be loaded: no metrics');
    else logger.debug('prom-client is not installed: no metrics');
    return null;
  }
  return new FulfilmentMetrics(prom, options.metrics.registry ?? prom.register, { store, providers: syncedProviders(endpoints) });
}

export const METRICS_PROVIDERS: Provider[] = [
  { provide: FULFILMENT_METRICS, inject: [RESOLVED_OPTIONS, OrderStore, PROVIDER_ENDPOINTS], useFactory: createMetrics },
];
