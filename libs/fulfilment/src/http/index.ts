export * from './provider-errors.js';
export * from './retry-policy.js';
export {
  ProviderHttpClient,
  serializeQuery,
  type ProviderAttemptRecord,
  type ProviderCallObserver,
  type ProviderHttpClientConfig,
  type ProviderHttpLogger,
  type ProviderHttpMethod,
  type ProviderQuery,
  type ProviderQueryValue,
  type ProviderRequest,
  type ProviderResponse,
} from './provider-http-client.js';
