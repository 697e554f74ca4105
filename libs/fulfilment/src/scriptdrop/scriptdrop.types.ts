/**
 * ScriptDrop domain types: camelCase, what ScriptDropService takes and returns. Wire spellings
 * (snake_case, `submitted to courier`, ...) live only in scriptdrop.wire.ts.
 */
import type {
  SCRIPTDROP_CARRIERS,
  SCRIPTDROP_CARRIER_SERVICES,
  SCRIPTDROP_COVERAGE_TYPES,
  SCRIPTDROP_DIMENSION_UNITS,
  SCRIPTDROP_GENDERS,
  SCRIPTDROP_INITIATORS,
  SCRIPTDROP_ORDER_STATUSES,
  SCRIPTDROP_PACKAGE_CODES,
  SCRIPTDROP_REFRIGERATION,
  SCRIPTDROP_SERVICE_LEVELS,
  SCRIPTDROP_SIGNATURES,
  SCRIPTDROP_WEIGHT_UNITS,
} from './scriptdrop.values.js';

export type ScriptDropServiceLevel = (typeof SCRIPTDROP_SERVICE_LEVELS)[number];
export type ScriptDropInitiator = (typeof SCRIPTDROP_INITIATORS)[number];
export type ScriptDropGender = (typeof SCRIPTDROP_GENDERS)[number];
export type ScriptDropRefrigeration = (typeof SCRIPTDROP_REFRIGERATION)[number];
export type ScriptDropCoverageType = (typeof SCRIPTDROP_COVERAGE_TYPES)[number];
export type ScriptDropCarrier = (typeof SCRIPTDROP_CARRIERS)[number];
export type ScriptDropCarrierService = (typeof SCRIPTDROP_CARRIER_SERVICES)[number];
export type ScriptDropSignature = (typeof SCRIPTDROP_SIGNATURES)[number];
export type ScriptDropWeightUnit = (typeof SCRIPTDROP_WEIGHT_UNITS)[number];
export type ScriptDropDimensionUnit = (typeof SCRIPTDROP_DIMENSION_UNITS)[number];
export type ScriptDropPackageCode = (typeof SCRIPTDROP_PACKAGE_CODES)[number];
/** The documented statuses; any other string ScriptDrop sends is kept as is. */
export type ScriptDropOrderStatus = (typeof SCRIPTDROP_ORDER_STATUSES)[number] | (string & {});

// --- input ---------------------------------------------------------------------------------------

export interface ScriptDropAddressInput {
  street: string;
  street2?: string;
  city: string;
  /** Two-letter state abbreviation. */
  state: string;
  /** 5 or 9 digits. */
  zipcode: string;
}

export interface ScriptDropPharmacyInput {
  /** 10 digits. */
  npi: string;
  /** 7 digits. */
  ncpdp: string;
}

export interface ScriptDropRecipientInput {
  /** At most 71 characters; the patient's first and last name when the patient is the recipient. */
  description: string;
  /** 10 digits. */
  mobilePhoneNumber?: string;
  /** 10 digits. */
  homePhoneNumber?: string;
  /** In the document's examples, not in its table. */
  isPatient?: boolean;
  address: ScriptDropAddressInput;
}

export interface ScriptDropPatientInput {
  /** At most 30 characters. */
  firstName: string;
  /** At most 40 characters. */
  lastName: string;
  gender: ScriptDropGender;
  /** `YYYY-MM-DD`. */
  dateOfBirth: string;
  /** 10 digits; shipping needs this or homePhoneNumber. */
  mobilePhoneNumber?: string;
  homePhoneNumber?: string;
}

export interface ScriptDropPrescriberInput {
  firstName: string;
  lastName: string;
  npi: string;
  address: ScriptDropAddressInput;
}

export interface ScriptDropPayerInput {
  /** At most 255 characters. */
  bin: string;
  /** At most 255 characters. */
  pcn: string;
  rxGroup: string;
  coverageType: ScriptDropCoverageType;
  governmentPlanIndicator: boolean;
}

/** The body of add-prescription: the document's table for that endpoint has no `date_of_service`. */
export interface ScriptDropAddPrescriptionInput {
  /** Rx number, at most 255 characters. */
  number: string;
  /** 11 digits. */
  ndc: string;
  refrigeration: ScriptDropRefrigeration;
  /** Integer. */
  daysSupply: number;
  fillQuantity: number;
  /** Integer. */
  fillNumber: number;
  patientPay: number;
  prescriber: ScriptDropPrescriberInput;
  payers: ScriptDropPayerInput[];
}

/** A prescription in a create-order body, whose table also lists `date_of_service`. */
export interface ScriptDropPrescriptionInput extends ScriptDropAddPrescriptionInput {
  /** ISO 8601 date, e.g. `2019-02-03`. */
  dateOfService?: string;
}

export interface ScriptDropOtherItemInput {
  upc: string;
  sku: string;
  /** Integer. */
  quantity: number;
  description: string;
}

export interface ScriptDropShippingInput {
  carrier: ScriptDropCarrier;
  /** Must belong to the carrier (`UPS Ground` for `UPS`, ...). */
  carrierService: ScriptDropCarrierService;
  /** Each carrier supports its own set (see SCRIPTDROP_CARRIER_SIGNATURES). */
  signature: ScriptDropSignature;
  /** Only `UPS 2nd Day Air` and `UPS Next Day Air` offer Saturday delivery. */
  saturdayDelivery?: boolean;
  /** USPS First Class Mail: under 1 pound. */
  weight: { unit: ScriptDropWeightUnit; value: number };
  /** Carrier specific package size; without it, dimensions are required. */
  packageCode?: ScriptDropPackageCode;
  dimensions?: { unit: ScriptDropDimensionUnit; length: number; width: number; height: number };
}

/** A delivery order as ScriptDropService.createOrder takes it. */
export interface ScriptDropOrderInput {
  /** Default `sameday` (what ScriptDrop assumes when the field is absent; then it is not sent). */
  serviceLevel?: ScriptDropServiceLevel;
  initiator?: ScriptDropInitiator;
  /** ISO 8601 timestamp with offset; required for `ondemand`. */
  readyAt?: string;
  /** ISO 8601 date; in the document's shipping example, not in its table. */
  serviceDate?: string;
  /** Decimal; required for `sameday`. */
  deliveryFee?: number;
  /** Decimal; required for `sameday`. */
  rxAmountDue?: number;
  /** Decimal; not supported for `shipping` (absent or 0 there). */
  otherItemsAmountDue?: number;
  /** At most 280 characters; `null` is sent as `null` (the document's shipping example does). */
  deliveryNotes?: string | null;
  /** At most 255 characters. ScriptDropFulfilment sends its idempotency key here. */
  externalReferenceNumber?: string;
  /** Not supported for `shipping` (absent or false there). */
  photoIdRequired?: boolean;
  pharmacy: ScriptDropPharmacyInput;
  recipient: ScriptDropRecipientInput;
  patient: ScriptDropPatientInput;
  /** Required for `shipping`, refused otherwise. */
  shipping?: ScriptDropShippingInput;
  /** At least one. */
  prescriptions: ScriptDropPrescriptionInput[];
  otherItems?: ScriptDropOtherItemInput[];
}

// --- output --------------------------------------------------------------------------------------

export interface ScriptDropEvent {
  occurredAt: Date | null;
}

export interface ScriptDropRecipientIdentification {
  number: string | null;
  /** ScriptDrop's human-readable type, e.g. `Driver License ID`. */
  type: string | null;
  /** `01`…`08`. */
  qualifier: string | null;
  /** The qualifier table's description (`06` → `Driver’s License ID`); null for an unknown qualifier. */
  qualifierDescription: string | null;
  jurisdictionCode: string | null;
}

export interface ScriptDropDelivery extends ScriptDropEvent {
  /**
   * Short-lived: ScriptDrop authenticates it only briefly and gives a new one on each read.
   * Use it straight away; never store it (the module does not).
   */
  signatureUrl: string | null;
  signedBy: string | null;
  relationship: string | null;
  otherRelationshipDescription: string | null;
  recipientIdentification: ScriptDropRecipientIdentification | null;
  failureReason: string | null;
}

export interface ScriptDropShipment {
  carrier: string | null;
  carrierService: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  /** URL of the label PDF (`label_pdf`). */
  labelUrl: string | null;
  cost: number | null;
  saturdayDelivery: boolean | null;
  /** Null until the shipment is delivered. */
  delivery: ScriptDropEvent | null;
}

export interface ScriptDropCancellation extends ScriptDropEvent {
  /** From `reason` (the document's examples) or `cancellation_reason` (its table). */
  reason: string | null;
}

export interface ScriptDropEta {
  arrivalAt: Date | null;
  /** `pickup` or `delivery`. */
  type: string | null;
}

/** An order as ScriptDrop reports it. Blocks ScriptDrop leaves out are null. */
export interface ScriptDropOrder {
  id: string;
  status: ScriptDropOrderStatus;
  externalReferenceNumber: string | null;
  pickup: ScriptDropEvent | null;
  delivery: ScriptDropDelivery | null;
  return: ScriptDropEvent | null;
  shipping: ScriptDropShipment | null;
  cancellation: ScriptDropCancellation | null;
  eta: ScriptDropEta | null;
}

/**
 * The parameters of Get Delivery Information (`GET /api/v1/pharmacies/:id`), sent as query
 * parameters (see SCRIPTDROP_DELIVERY_INFORMATION_QUERY for their spelling).
 */
export interface ScriptDropDeliveryInformationInput {
  /** The recipient's (drop-off) location: the document's `delivery.address`, required. */
  deliveryAddress: ScriptDropAddressInput;
  /**
   * The proof-of-delivery signature, one of the signature methods; absent: the pharmacy's own
   * configuration (the document: "Null = defaults to pharmacy configuration POD signature").
   */
  pod?: ScriptDropSignature;
  /** The document describes it as "Coverage type": one of primary, secondary, tertiary. */
  package?: ScriptDropCoverageType;
  /** Whether Saturday counts as a delivery day (UPS 2nd Day Air and UPS Next Day Air only). */
  saturdayDelivery?: boolean;
}
