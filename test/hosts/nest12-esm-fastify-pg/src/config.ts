import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { FULFILMENT_MIGRATIONS, type FulfilmentModuleOptions } from 'nestjs-fulfilment';

/** Read when Nest builds the modules (not at import), so tests can set the environment first. */
export function databaseOptions(): TypeOrmModuleOptions {
  return {
    type: 'postgres',
    url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/courier',
    autoLoadEntities: true,
    migrations: [...FULFILMENT_MIGRATIONS],
    migrationsRun: true,
  };
}

export function fulfilmentOptions(): FulfilmentModuleOptions {
  const env = process.env;
  const secret = env.FULFILMENT_WEBHOOK_SECRET;
  if (!secret) throw new Error('FULFILMENT_WEBHOOK_SECRET is not set');
  const live = Boolean(env.CARYRX_BASE_URL || env.SCRIPTDROP_BASE_URL);
  return {
    sandbox: live ? false : { stepMs: Number(env.SANDBOX_STEP_MS ?? 1000) },
    caryrx: env.CARYRX_BASE_URL ? { baseUrl: env.CARYRX_BASE_URL, apiKey: env.CARYRX_API_KEY ?? '', environment: 'development' } : undefined,
    scriptdrop: env.SCRIPTDROP_BASE_URL
      ? { baseUrl: env.SCRIPTDROP_BASE_URL, apiKey: env.SCRIPTDROP_API_KEY ?? '', apiSecret: env.SCRIPTDROP_API_SECRET ?? '' }
      : undefined,
    webhooks: { publicUrl: env.PUBLIC_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`, secret },
    sync: { intervalMs: Number(env.FULFILMENT_SYNC_INTERVAL_MS ?? 30000) },
  };
}
