// CaryRx public API (re-exported by ../index.ts).
export { CaryRxService, type CaryRxCallOptions } from './caryrx.service.js';
export { CaryRxFulfilment, CARYRX_WEBHOOK_TOPICS, type CaryRxWebhookTopic } from './caryrx-fulfilment.service.js';
export type {
  CaryRxAddress,
  CaryRxEntityRef,
  CaryRxLocationInput,
  CaryRxOrder,
  CaryRxOrderInput,
  CaryRxOrderPrescriptionRef,
  CaryRxPatient,
  CaryRxPatientInput,
  CaryRxPrescriber,
  CaryRxPrescription,
  CaryRxPrescriptionInput,
  CaryRxWebhookRegistrationInput,
  CaryRxWebhookRegistrationResult,
} from './caryrx.types.js';
export {
  CaryRxLocationInputDto,
  CaryRxOrderInputDto,
  CaryRxPatientInputDto,
  CaryRxPrescriptionInputDto,
  CaryRxWebhookRegistrationInputDto,
  PlaceCaryRxOrderInputDto,
  CARYRX_NOTE_MAX_LENGTH,
  type PlaceCaryRxOrderInput,
} from './caryrx.dto.js';
export { CARYRX_SHIPPING_METHODS, CARYRX_ORDER_STATUSES, CARYRX_DEFAULT_SHIPPING_METHOD, type CaryRxShippingMethod, type CaryRxOrderStatus } from './caryrx.wire.js';
