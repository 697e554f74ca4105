import { HttpModule, HttpService } from '@nestjs/axios';
import { Logger, Module, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import type { AxiosInstance } from 'axios';
import { CARYRX_HTTP_CLIENT, FULFILMENT_METRICS, PROVIDER_ENDPOINTS, RESOLVED_OPTIONS, SCRIPTDROP_HTTP_CLIENT } from './fulfilment.constants.js';
import type { CaryRxOptions, ResolvedFulfilmentOptions, ScriptDropOptions } from './fulfilment.options.js';
import { ProviderHttpClient, type ProviderCallObserver } from './http/provider-http-client.js';
import type { FulfilmentSandbox } from './sandbox/sandbox-runtime.js';

/** Where each provider is reached. In sandbox mode both point at in-process simulators. */
export class ProviderEndpoints implements OnApplicationShutdown {
  constructor(
    readonly caryrx: Required<CaryRxOptions> | undefined,
    readonly scriptdrop: Required<ScriptDropOptions> | undefined,
    /** The running simulators in sandbox mode (hosts' tests can drive them: advance(), faults). */
    readonly sandbox: FulfilmentSandbox | undefined,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.sandbox?.stop();
  }
}

async function resolveEndpoints(options: ResolvedFulfilmentOptions): Promise<ProviderEndpoints> {
  if (!options.sandbox) return new ProviderEndpoints(options.caryrx, options.scriptdrop, undefined);
  // Loaded only here, so a production host never loads the simulators (about 1,400 lines of servers).
  const { startSandbox } = await import('./sandbox/sandbox-runtime.js');
  const sandbox = await startSandbox(options.sandbox);
  new Logger('Fulfilment').log(`sandbox mode: CaryRx simulator at ${sandbox.caryrx.url}, ScriptDrop simulator at ${sandbox.scriptdrop.url}`);
  return new ProviderEndpoints(
    { ...options.sandbox.caryrx, baseUrl: sandbox.caryrx.url, apiKey: sandbox.caryrx.apiKey, environment: 'development' },
    { ...options.sandbox.scriptdrop, baseUrl: sandbox.scriptdrop.url, apiKey: sandbox.scriptdrop.apiKey, apiSecret: sandbox.scriptdrop.apiSecret },
    sandbox,
  );
}

const CARYRX_AXIOS = Symbol('FULFILMENT_CARYRX_AXIOS');
const SCRIPTDROP_AXIOS = Symbol('FULFILMENT_SCRIPTDROP_AXIOS');
const axiosOf = (http: HttpService): AxiosInstance => http.axiosRef;

/**
 * One `HttpModule` registration per provider: two clients on one HttpService would share one axios
 * instance, and each client sets its own base URL and agents on it. The registrations differ in
 * their User-Agent so Nest never merges them into one module (it can key modules by their options).
 */
@Module({
  imports: [HttpModule.register({ headers: { 'User-Agent': 'nestjs-fulfilment (caryrx)' } })],
  providers: [{ provide: CARYRX_AXIOS, inject: [HttpService], useFactory: axiosOf }],
  exports: [CARYRX_AXIOS],
})
class CaryRxHttpModule {}

@Module({
  imports: [HttpModule.register({ headers: { 'User-Agent': 'nestjs-fulfilment (scriptdrop)' } })],
  providers: [{ provide: SCRIPTDROP_AXIOS, inject: [HttpService], useFactory: axiosOf }],
  exports: [SCRIPTDROP_AXIOS],
})
class ScriptDropHttpModule {}

export const PROVIDER_HTTP_MODULES = [CaryRxHttpModule, ScriptDropHttpModule];

/** One HTTP client (its provider's axios instance) per provider; null when that provider is not configured. */
export const PROVIDER_PROVIDERS: Provider[] = [
  { provide: PROVIDER_ENDPOINTS, inject: [RESOLVED_OPTIONS], useFactory: resolveEndpoints },
  { provide: ProviderEndpoints, useExisting: PROVIDER_ENDPOINTS },
  {
    provide: CARYRX_HTTP_CLIENT,
    inject: [PROVIDER_ENDPOINTS, CARYRX_AXIOS, FULFILMENT_METRICS],
    useFactory: ({ caryrx }: ProviderEndpoints, axios: AxiosInstance, metrics: ProviderCallObserver | null) =>
      caryrx
        ? new ProviderHttpClient({
            provider: 'caryrx',
            axios,
            observer: metrics ?? undefined,
            baseUrl: caryrx.baseUrl,
            authHeaders: { apikey: caryrx.apiKey },
            timeoutMs: caryrx.timeoutMs,
            maxRetries: caryrx.maxRetries,
          })
        : null,
  },
  {
    provide: SCRIPTDROP_HTTP_CLIENT,
    inject: [PROVIDER_ENDPOINTS, SCRIPTDROP_AXIOS, FULFILMENT_METRICS],
    useFactory: ({ scriptdrop }: ProviderEndpoints, axios: AxiosInstance, metrics: ProviderCallObserver | null) =>
      scriptdrop
        ? new ProviderHttpClient({
            provider: 'scriptdrop',
            axios,
            observer: metrics ?? undefined,
            baseUrl: scriptdrop.baseUrl,
            authHeaders: {
              authorization: `Basic ${Buffer.from(`${scriptdrop.apiKey}:${scriptdrop.apiSecret}`).toString('base64')}`,
            },
            timeoutMs: scriptdrop.timeoutMs,
            maxRetries: scriptdrop.maxRetries,
          })
        : null,
  },
];
