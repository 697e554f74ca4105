import { Logger, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { CARYRX_HTTP_CLIENT, PROVIDER_ENDPOINTS, RESOLVED_OPTIONS, SCRIPTDROP_HTTP_CLIENT } from './fulfilment.constants.js';
import type { CaryRxOptions, ResolvedFulfilmentOptions, ScriptDropOptions } from './fulfilment.options.js';
import { ProviderHttpClient } from './http/provider-http-client.js';
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
  const timeouts = { timeoutMs: 10_000, maxRetries: 2 };
  return new ProviderEndpoints(
    { ...timeouts, ...options.caryrx, baseUrl: sandbox.caryrx.url, apiKey: sandbox.caryrx.apiKey, environment: 'development' },
    { ...timeouts, ...options.scriptdrop, baseUrl: sandbox.scriptdrop.url, apiKey: sandbox.scriptdrop.apiKey, apiSecret: sandbox.scriptdrop.apiSecret },
    sandbox,
  );
}

/** One HTTP client (its own axios instance) per provider; null when that provider is not configured. */
export const PROVIDER_PROVIDERS: Provider[] = [
  { provide: PROVIDER_ENDPOINTS, inject: [RESOLVED_OPTIONS], useFactory: resolveEndpoints },
  { provide: ProviderEndpoints, useExisting: PROVIDER_ENDPOINTS },
  {
    provide: CARYRX_HTTP_CLIENT,
    inject: [PROVIDER_ENDPOINTS],
    useFactory: ({ caryrx }: ProviderEndpoints) =>
      caryrx
        ? new ProviderHttpClient({
            provider: 'caryrx',
            baseUrl: caryrx.baseUrl,
            authHeaders: { apikey: caryrx.apiKey },
            timeoutMs: caryrx.timeoutMs,
            maxRetries: caryrx.maxRetries,
          })
        : null,
  },
  {
    provide: SCRIPTDROP_HTTP_CLIENT,
    inject: [PROVIDER_ENDPOINTS],
    useFactory: ({ scriptdrop }: ProviderEndpoints) =>
      scriptdrop
        ? new ProviderHttpClient({
            provider: 'scriptdrop',
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
