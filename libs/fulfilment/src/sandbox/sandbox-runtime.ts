import { randomBytes } from 'node:crypto';
import type { SandboxOptions } from '../fulfilment.options.js';
import { CaryRxSimulator } from './caryrx-simulator.js';
import { ScriptDropSimulator } from './scriptdrop-simulator.js';

/** Both simulators, started in-process for sandbox mode. */
export interface FulfilmentSandbox {
  caryrx: CaryRxSimulator;
  scriptdrop: ScriptDropSimulator;
  stop(): Promise<void>;
}

/** Starts both simulators on free loopback ports with fresh random credentials. */
export async function startSandbox(options: Required<SandboxOptions>): Promise<FulfilmentSandbox> {
  const caryrx = new CaryRxSimulator({ apiKey: `sandbox-${randomBytes(12).toString('hex')}`, stepMs: options.stepMs });
  const scriptdrop = new ScriptDropSimulator({
    apiKey: `pk_sandbox_${randomBytes(8).toString('hex')}`,
    apiSecret: `sk_sandbox_${randomBytes(16).toString('hex')}`,
    stepMs: options.stepMs,
  });
  await Promise.all([caryrx.start(), scriptdrop.start()]);
  return {
    caryrx,
    scriptdrop,
    stop: async () => {
      await Promise.all([caryrx.stop(), scriptdrop.stop()]);
    },
  };
}
