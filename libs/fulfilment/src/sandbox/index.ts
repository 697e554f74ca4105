// First: the DTOs' decorators store their metadata with it as their modules load (Nest hosts have it).
import 'reflect-metadata';
// The public API of `nestjs-fulfilment/testing`: simulators of both providers, a client that posts
// correctly tokened webhooks, and fixtures for hosts' own tests. The main entry never imports this
// folder; `sandbox: true` loads it lazily (see provider-endpoints.ts).
export {
  CaryRxSimulator,
  CARYRX_ORDER_TEST_PAYLOAD,
  CARYRX_PRESCRIPTION_TEST_PAYLOAD,
  CARYRX_SIM_ORDER_FLOW,
  type CaryRxSimulatorOptions,
  type SimCaryRxOrder,
  type SimCaryRxPatient,
  type SimCaryRxLocation,
  type SimCaryRxPrescription,
} from './caryrx-simulator.js';
export {
  ScriptDropSimulator,
  SCRIPTDROP_SIM_COURIER_FLOW,
  SCRIPTDROP_SIM_FAILED_FLOW,
  SCRIPTDROP_SIM_SHIPPING_FLOW,
  type ScriptDropSimulatorOptions,
  type SimScriptDropOrder,
  type SimScriptDropShipping,
} from './scriptdrop-simulator.js';
export type { FaultRule, WebhookFaults, WebhookDelivery, RecordedRequest } from './simulator-server.js';
export { startSandbox, type FulfilmentSandbox } from './sandbox-runtime.js';
export { createWebhookTestClient, type WebhookTestClient, type WebhookTestClientOptions, type WebhookTestResponse } from './webhook-test-client.js';
// A complete order row for writing straight into the table in a test (the module's own builder).
export { newFulfilmentOrder } from '../orders/entities/fulfilment-order.entity.js';
