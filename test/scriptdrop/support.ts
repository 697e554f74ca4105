import type { OrderObservation } from '../../libs/fulfilment/src/orders/order-state-machine.js';
import { ScriptDropStatusReader } from '../../libs/fulfilment/src/sync/provider-status-readers.js';
import { ScriptDropFulfilment, ScriptDropService, type ScriptDropOptions } from 'nestjs-fulfilment';
import { ScriptDropSimulator, type ScriptDropSimulatorOptions } from 'nestjs-fulfilment/testing';
import { createTestApp, type TestApp } from '../support/test-app.js';

export interface ScriptDropTestContext {
  sim: ScriptDropSimulator;
  t: TestApp;
  api: ScriptDropService;
  flow: ScriptDropFulfilment;
  close(): Promise<void>;
}

/** A ScriptDrop simulator on its own loopback port and an app pointed at it, on a fresh test database. */
export async function startScriptDrop(
  options: { scriptdrop?: Partial<ScriptDropOptions>; sim?: ScriptDropSimulatorOptions } = {},
): Promise<ScriptDropTestContext> {
  const sim = new ScriptDropSimulator({ apiKey: 'pk_test_key', apiSecret: 'sk_test_secret_0001', stepMs: 0, ...options.sim });
  await sim.start();
  const t = await createTestApp({
    scriptdrop: { baseUrl: sim.url, apiKey: sim.apiKey, apiSecret: sim.apiSecret, ...options.scriptdrop },
    sync: { enabled: false },
  });
  return {
    sim,
    t,
    api: t.app.get(ScriptDropService),
    flow: t.app.get(ScriptDropFulfilment),
    close: async () => {
      await t.close();
      await sim.stop();
    },
  };
}

/** Walks an order to `status` with advance() (at most `max` steps). */
export function advanceTo(sim: ScriptDropSimulator, id: string, status: string, max = 6): void {
  for (let i = 0; i < max && sim.orders.get(id)?.status !== status; i++) sim.advance(id);
  if (sim.orders.get(id)?.status !== status) throw new Error(`order ${id} did not reach ${status}`);
}

/** The observations the status sync's ScriptDrop reader makes of these ids (50 per multi-get, as configured by default). */
export function readStatuses(ctx: ScriptDropTestContext, ids: string[]): Promise<Map<string, OrderObservation>> {
  return new ScriptDropStatusReader(ctx.api, 50, 4).read(ids);
}
