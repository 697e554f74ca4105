import type { ModuleMetadata } from '@nestjs/common';
import { type CaryRxOptions, type FulfilmentModuleOptions } from 'nestjs-fulfilment';
import { CaryRxSimulator } from 'nestjs-fulfilment/testing';
import { createTestApp, type TestAdapter, type TestApp } from '../support/test-app.js';

export const SECRET = 'caryrx-test-secret-0001';
/** The second secret of a rotation: also accepted. */
export const SECRET_2 = 'caryrx-test-secret-0002';

export interface CaryRxTestContext {
  sim: CaryRxSimulator;
  t: TestApp;
  close(): Promise<void>;
}

/** A CaryRx simulator on its own loopback port and an app pointed at it, on a fresh test database. */
export async function startCaryRx(
  options: { caryrx?: Partial<CaryRxOptions>; webhooks?: Partial<NonNullable<FulfilmentModuleOptions['webhooks']>>; sync?: FulfilmentModuleOptions['sync'] } = {},
  extra: { providers?: ModuleMetadata['providers']; adapter?: TestAdapter } = {},
): Promise<CaryRxTestContext> {
  const sim = new CaryRxSimulator({ apiKey: 'test-123', stepMs: 0 });
  await sim.start();
  const t = await createTestApp(
    {
      caryrx: { baseUrl: sim.url, apiKey: sim.apiKey, environment: 'development', ...options.caryrx },
      webhooks: { secret: [SECRET, SECRET_2], ...options.webhooks },
      sync: { enabled: false, ...options.sync },
    },
    extra,
  );
  return {
    sim,
    t,
    close: async () => {
      await t.close();
      await sim.stop();
    },
  };
}

export const webhookUrl = (t: TestApp, topic: 'prescriptions' | 'orders', token: string | null = SECRET): string =>
  `${t.url}/fulfilment/webhooks/caryrx/${topic}${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;

/** POSTs a webhook body (an object is sent as JSON, a string verbatim). */
export async function postWebhook(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += limit) await Promise.all(items.slice(i, i + limit).map(fn));
}
