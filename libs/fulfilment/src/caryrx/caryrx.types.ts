/**
 * CaryRx domain types: camelCase, what CaryRxService takes and returns. Wire spellings live only in
 * caryrx.wire.ts.
 */

/** A reference to another CaryRx object, as responses nest them. */
export interface CaryRxEntityRef {
  /** e.g. `patient`, `prescription`, `order`, `patientlocation` (the doc is not always consistent). */
  entityType: string | null;
  id: string;
  createdAt: Date | null;
  updatedAt: Date | null;
}

/** A prescription as an order lists it. */
export interface CaryRxOrderPrescriptionRef extends CaryRxEntityRef {
  /** Medication name (get order only). */
  prescription: string | null;
  isRefill: boolean | null;
}

export interface CaryRxPatientInput {
  firstName: string;
  lastName: string;
  /** `YYYY-MM-DD`. */
  dob: string;
  email?: string;
  /** 10 digits. */
  phoneNumber?: string;
}

export interface CaryRxLocationInput {
  /** A label such as `home`. */
  locationName?: string;
  street1: string;
  street2?: string;
  city: string;
  /** Two-letter state code. */
  state: string;
  /** 5 or 9 digits (`12345`, `123456789` or `12345-6789`). */
  zip: string;
  latitude?: number;
  longitude?: number;
}

export interface CaryRxPrescriptionInput {
  patientId: string;
  medicationName: string;
  qtyWritten: number;
  refillsWritten: number;
  daysSupply: number;
  /** Free-form; the doc sends the string "null". */
  data?: string;
}

export interface CaryRxOrderInput {
  patientId: string;
  patientLocationId: string;
  prescriptionIds: string[];
  /** Default `sameday_delivery`; see CARYRX_SHIPPING_METHODS. */
  shippingMethod?: string;
  centralFill?: boolean;
  patientDeliveryNote?: string;
  patientPharmacyNote?: string;
}

export interface CaryRxWebhookRegistrationInput {
  callbackUrl: string;
}

export interface CaryRxWebhookRegistrationResult {
  callbackUrl: string | null;
  authType: string | null;
}

export interface CaryRxAddress {
  name: string | null;
  street1: string | null;
  street2: string | null;
  city: string | null;
  state: string | null;
  zip: string | null;
}

export interface CaryRxPatient {
  id: string;
  firstName: string | null;
  lastName: string | null;
  dob: string | null;
  state: string | null;
  caryPatient: boolean | null;
  pauseInterventions: boolean | null;
  tags: unknown[];
  prescriptions: CaryRxEntityRef[];
  orders: CaryRxEntityRef[];
  contactInfo: unknown[];
}

export interface CaryRxPrescriber {
  name: string | null;
  clinic: string | null;
  address: string | null;
  address2: string | null;
  city: string | null;
  state: string | null;
  zip: string | null;
  phone: string | null;
  fax: string | null;
  npi: string | null;
  dea: string | null;
}

export interface CaryRxPrescription {
  id: string;
  source: string | null;
  status: string | null;
  medicationName: string | null;
  lastFill: string | null;
  daysSupply: number | null;
  qtyWritten: number | null;
  totalTabletsRemaining: number | null;
  refillsRemaining: number | null;
  qtyDispensed: number | null;
  refillsWritten: number | null;
  priorAuthStatus: string | null;
  rxNumber: number | string | null;
  priorAuthLastUpdate: string | null;
  autoRefill: boolean | null;
  paymentToken: string | null;
  externalId: string | null;
  patient: CaryRxEntityRef | null;
  prescriber: CaryRxPrescriber | null;
  /** Present on webhook events only when CaryRx sends one. */
  updatedAt: Date | null;
}

export interface CaryRxOrder {
  id: string;
  /** Kept verbatim, also when not one of CARYRX_ORDER_STATUSES. */
  orderStatus: string | null;
  shippingMethod: string | null;
  packagingMethod: string | null;
  deliverySchedule: string | null;
  patientLocationId: string | null;
  centralFill: boolean | null;
  address: CaryRxAddress | null;
  shipmentTrackingUrl: string | null;
  shipmentTrackingEta: Date | null;
  samedayLocationX: string | null;
  samedayLocationY: string | null;
  createdAt: Date | null;
  /** `updatedAt` in get order, `updated_at` elsewhere: both read. */
  updatedAt: Date | null;
  flags: unknown;
  activationCode: string | null;
  prescriptions: CaryRxOrderPrescriptionRef[];
  patient: CaryRxEntityRef | null;
}
