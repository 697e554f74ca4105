// Simulators, exported for hosts' tests. Each provider's engineer adds only their own lines.
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
