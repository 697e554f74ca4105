/** Injection tokens private to the module (hosts use the exported services, not these). */
export const RESOLVED_OPTIONS = Symbol('FULFILMENT_RESOLVED_OPTIONS');
/** The host's TypeORM DataSource the module works in (default or named). */
export const FULFILMENT_DATA_SOURCE = Symbol('FULFILMENT_DATA_SOURCE');
/** Where each provider is reached: configured URLs and credentials, or the sandbox simulators'. */
export const PROVIDER_ENDPOINTS = Symbol('FULFILMENT_PROVIDER_ENDPOINTS');
export const CARYRX_HTTP_CLIENT = Symbol('FULFILMENT_CARYRX_HTTP_CLIENT');
export const SCRIPTDROP_HTTP_CLIENT = Symbol('FULFILMENT_SCRIPTDROP_HTTP_CLIENT');

// --- metrics ----------------------------------------------------------------------------------
/**
 * The module's metrics (metrics/fulfilment-metrics.ts), or null when they are off or prom-client is
 * not installed. Each layer injects it typed as the narrow observer it declares itself
 * (ProviderCallObserver, WebhookObserver, SyncObserver), so only metrics/ knows prom-client.
 */
export const FULFILMENT_METRICS = Symbol('FULFILMENT_METRICS');
