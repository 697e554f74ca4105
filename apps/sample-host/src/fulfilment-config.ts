import { randomBytes } from 'node:crypto';
import type { ConfigService } from '@nestjs/config';
import type { FulfilmentModuleOptions, CaryRxEnvironment } from 'nestjs-fulfilment';

/** Thrown when the environment cannot make a working host; main.ts prints it and exits. */
export class HostConfigError extends Error {}

/**
 * Module options from the environment (DESIGN.md's table). No provider URL set → sandbox: both
 * simulators run in-process and the webhook secret is generated per run.
 */
export function fulfilmentOptionsFromEnv(config: ConfigService): FulfilmentModuleOptions {
  const get = (key: string): string | undefined => {
    const value = config.get<string>(key);
    return value === undefined || value === '' ? undefined : value;
  };
  const port = Number(get('PORT') ?? 3000);
  const caryrxUrl = get('CARYRX_BASE_URL');
  const scriptdropUrl = get('SCRIPTDROP_BASE_URL');
  const sandbox = !caryrxUrl && !scriptdropUrl;
  const secret = get('FULFILMENT_WEBHOOK_SECRET');
  if (!sandbox && !secret) {
    throw new HostConfigError(
      'FULFILMENT_WEBHOOK_SECRET is required when CARYRX_BASE_URL or SCRIPTDROP_BASE_URL is set (it authenticates incoming webhooks; use at least 16 URL-safe characters)',
    );
  }
  const intervalMs = get('FULFILMENT_SYNC_INTERVAL_MS');
  return {
    sandbox: sandbox ? { stepMs: Number(get('FULFILMENT_SANDBOX_STEP_MS') ?? 1000) } : false,
    caryrx: caryrxUrl
      ? {
          baseUrl: caryrxUrl,
          apiKey: get('CARYRX_API_KEY') ?? '',
          environment: (get('CARYRX_ENVIRONMENT') ?? 'development') as CaryRxEnvironment,
        }
      : undefined,
    scriptdrop: scriptdropUrl
      ? { baseUrl: scriptdropUrl, apiKey: get('SCRIPTDROP_API_KEY') ?? '', apiSecret: get('SCRIPTDROP_API_SECRET') ?? '' }
      : undefined,
    webhooks: {
      publicUrl: get('FULFILMENT_PUBLIC_URL') ?? `http://127.0.0.1:${port}`,
      secret: secret ?? randomBytes(24).toString('base64url'),
    },
    sync: { intervalMs: intervalMs ? Number(intervalMs) : sandbox ? 2000 : 30_000 },
  };
}
