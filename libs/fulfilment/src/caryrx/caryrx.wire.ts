/**
 * Every CaryRx wire spelling, in one file: paths, request/response shapes, the webhook bodies we
 * accept, and the mapping to and from the camelCase domain types of caryrx.types.ts.
 *
 * The CaryRx document lost its punctuation and case (see DESIGN.md, "Reading the seeds"). Spellings
 * marked GUESS are restored by those rules: words split by spaces → snake_case, words run together
 * → camelCase. Where the document itself is inconsistent (`updatedAt` / `updated_at`) both are read.
 */
import { applyDecorators } from '@nestjs/common';
import { IsArray, IsBoolean, IsDefined, IsISO8601, IsNotEmpty, IsNumber, IsObject, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { DocumentedByRules } from '../openapi/documented-by-rules.js';
import { Nested, Rule } from '../validation.js';
import type {
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

// --- paths ---------------------------------------------------------------------------------------

const seg = encodeURIComponent;
export const CARYRX_PATHS = {
  prescriptionEvents: '/v1/prescriptions/events',
  orderEvents: '/v1/orders/events',
  patients: '/v1/patients',
  patient: (patientId: string) => `/v1/patients/${seg(patientId)}`,
  // GUESS: the doc prints `/v1/patients/\ patientid/location`.
  patientLocation: (patientId: string) => `/v1/patients/${seg(patientId)}/location`,
  prescriptions: '/v1/prescriptions',
  prescription: (prescriptionId: string) => `/v1/prescriptions/${seg(prescriptionId)}`,
  orders: '/v1/orders',
  order: (orderId: string) => `/v1/orders/${seg(orderId)}`,
} as const;

/** Auth header name (the doc: `apikey: test-123`). */
export const CARYRX_API_KEY_HEADER = 'apikey';

// --- documented value sets ----------------------------------------------------------------------

/**
 * Shipping methods. GUESS: the doc prints `sameday delivery` and `2day mailorder`; public client
 * code confirms `sameday_delivery` (the default). Add a method here when CaryRx documents one.
 */
export const CARYRX_SHIPPING_METHODS = ['sameday_delivery', '2day_mailorder'] as const;
export type CaryRxShippingMethod = (typeof CARYRX_SHIPPING_METHODS)[number];
export const CARYRX_DEFAULT_SHIPPING_METHOD: CaryRxShippingMethod = 'sameday_delivery';

/**
 * Every CaryRx order status we know: the one list behind CARYRX_ORDER_STATUSES and the state
 * machine's CaryRx mapping (order-status.ts is keyed by this type, so the two cannot disagree).
 * Only `pending` and `ready_to_fill` are in the document (`ready to fill` → snake_case: GUESS);
 * every other entry is a GUESS. Statuses outside this list are still kept verbatim.
 */
export const CARYRX_ORDER_STATUSES = [
  'pending', // documented
  'ready_to_fill', // documented (spelling restored)
  'filled', // GUESS: a plausible pharmacy step (the simulator uses it)
  'ready_to_ship', // GUESS: a plausible pharmacy step
  'shipped', // GUESS: read from public client code
  'out_for_delivery', // GUESS: a plausible courier step
  'delivery_failed', // GUESS: read from public client code
  'delivered', // GUESS: read from public client code
  'returned', // GUESS: a plausible end state
  'cancelled', // GUESS: a plausible end state
  'canceled', // GUESS: the US spelling of `cancelled`, in case CaryRx uses it
] as const;
export type CaryRxOrderStatus = (typeof CARYRX_ORDER_STATUSES)[number];

/** What the doc's create-order example sends as `order_status`. */
const CARYRX_NEW_ORDER_STATUS = 'pending';

/** The doc documents only `authtype: none` (GUESS: `authType`); the token rides in the callback URL. */
export const CARYRX_WEBHOOK_AUTH_TYPE = 'none';

/** Id of the prescription webhook's registration test payload (confirmed by public client code). */
export const CARYRX_PRESCRIPTION_TEST_ID = 'test_object';
/** Id of the order webhook's registration test payload as the doc prints it (GUESS: CaryRx always sends this sample). */
export const CARYRX_ORDER_TEST_ID = 'd1abcxox';

// --- wire shapes ---------------------------------------------------------------------------------

export interface CaryRxEntityRefWire {
  entity_type?: string | null;
  id: string;
  created_at?: string | null;
  updated_at?: string | null;
  /** Not printed for refs, but read in case CaryRx spells it like get order does. */
  updatedAt?: string | null;
}

export interface CaryRxOrderPrescriptionRefWire extends CaryRxEntityRefWire {
  prescription?: string | null;
  is_refill?: boolean | null;
}

export interface CaryRxWebhookRegistrationWire {
  callbackUrl: string; // GUESS from `callbackurl`; confirmed by public client code
  authType: string; // GUESS from `authtype`
}

export interface CaryRxPatientCreateWire {
  first_name: string;
  last_name: string;
  dob: string;
  email?: string;
  phone_number?: string;
}

export interface CaryRxLocationCreateWire {
  patientId: string; // GUESS from `patientid` (run together → camelCase)
  locationName?: string; // GUESS from `locationname`
  address_to_street1: string;
  address_to_street2?: string;
  address_to_city: string;
  address_to_state: string;
  address_to_zip: string;
  address_to_latitude?: number;
  address_to_longitude?: number;
}

export interface CaryRxPrescriptionCreateWire {
  patientId: string; // GUESS from `patientid`; confirmed by public client code
  medication_name: string;
  qty_written: number;
  refills_written: number;
  days_supply: number;
  data?: string;
}

export interface CaryRxOrderCreateWire {
  shipping_method: string;
  central_fill: boolean;
  patient_id: string;
  patient_location_id: string;
  prescriptions: Array<{ id: string }>;
  patient_delivery_note?: string;
  patient_pharmacy_note?: string;
  order_status: string;
}

export interface CaryRxPatientWire {
  id: string;
  first_name?: string | null;
  last_name?: string | null;
  dob?: string | null;
  state?: string | null;
  cary_patient?: boolean | null;
  pause_interventions?: boolean | null;
  tags?: unknown[] | null;
  prescriptions?: CaryRxEntityRefWire[] | null;
  orders?: CaryRxEntityRefWire[] | null;
  contact_info?: unknown[] | null;
}

export interface CaryRxPrescriberWire {
  prescriber_name?: string | null;
  prescriber_clinic?: string | null;
  prescriber_address?: string | null;
  prescriber_address2?: string | null;
  prescriber_city?: string | null;
  prescriber_state?: string | null;
  prescriber_zip?: string | null;
  prescriber_phone?: string | null;
  prescriber_fax?: string | null;
  prescriber_npi?: string | null;
  prescriber_dea?: string | null;
}

export interface CaryRxPrescriptionWire {
  id: string;
  source?: string | null;
  status?: string | null;
  medication_name?: string | null;
  last_fill?: string | null; // the doc prints `01 01 2000` and `2021 01 01`: separators are a GUESS, kept verbatim
  days_supply?: number | null;
  qty_written?: number | null;
  total_tablets_remaining?: number | null;
  refills_remaining?: number | null;
  qty_dispensed?: number | null;
  refills_written?: number | null;
  prior_auth_status?: string | null;
  rx_number?: number | string | null;
  prior_auth_last_update?: string | null;
  auto_refill?: boolean | null;
  payment_token?: string | null;
  external_id?: string | null;
  patient?: CaryRxEntityRefWire | null;
  prescriber?: CaryRxPrescriberWire | null;
  updated_at?: string | null;
  updatedAt?: string | null;
}

export interface CaryRxOrderWire {
  id: string;
  order_status?: string | null;
  shipping_method?: string | null;
  packaging_method?: string | null;
  delivery_schedule?: string | null;
  patient_location_id?: string | null;
  central_fill?: boolean | null;
  address_to_name?: string | null;
  address_to_street1?: string | null;
  address_to_street2?: string | null;
  address_to_city?: string | null;
  address_to_state?: string | null;
  address_to_zip?: string | null;
  shipment_tracking_url?: string | null;
  shipment_tracking_eta?: string | null;
  sameday_location_x?: string | null;
  sameday_location_y?: string | null;
  created_at?: string | null;
  /** Get order prints `updatedat` (→ `updatedAt`); refs and events use `updated_at`. Both read. */
  updatedAt?: string | null;
  updated_at?: string | null;
  flags?: unknown;
  activationCode?: string | null; // GUESS from `activationcode`
  activation_code?: string | null;
  prescriptions?: CaryRxOrderPrescriptionRefWire[] | null;
  patient?: CaryRxEntityRefWire | null;
}

// --- toWire --------------------------------------------------------------------------------------

export const webhookRegistrationToWire = (input: CaryRxWebhookRegistrationInput): CaryRxWebhookRegistrationWire => ({
  callbackUrl: input.callbackUrl,
  authType: CARYRX_WEBHOOK_AUTH_TYPE,
});

export const patientToWire = (input: CaryRxPatientInput): CaryRxPatientCreateWire =>
  withoutUndefined({
    first_name: input.firstName,
    last_name: input.lastName,
    dob: input.dob,
    email: input.email,
    phone_number: input.phoneNumber,
  });

export const locationToWire = (patientId: string, input: CaryRxLocationInput): CaryRxLocationCreateWire =>
  withoutUndefined({
    patientId,
    locationName: input.locationName,
    address_to_street1: input.street1,
    address_to_street2: input.street2,
    address_to_city: input.city,
    address_to_state: input.state,
    address_to_zip: input.zip,
    address_to_latitude: input.latitude,
    address_to_longitude: input.longitude,
  });

export const prescriptionToWire = (input: CaryRxPrescriptionInput): CaryRxPrescriptionCreateWire =>
  withoutUndefined({
    patientId: input.patientId,
    medication_name: input.medicationName,
    qty_written: input.qtyWritten,
    refills_written: input.refillsWritten,
    days_supply: input.daysSupply,
    // The doc's example sends the string "null".
    data: input.data ?? 'null',
  });

export const orderToWire = (input: CaryRxOrderInput): CaryRxOrderCreateWire =>
  withoutUndefined({
    shipping_method: input.shippingMethod ?? CARYRX_DEFAULT_SHIPPING_METHOD,
    central_fill: input.centralFill ?? false,
    patient_id: input.patientId,
    patient_location_id: input.patientLocationId,
    prescriptions: input.prescriptionIds.map((id) => ({ id })),
    patient_delivery_note: input.patientDeliveryNote,
    patient_pharmacy_note: input.patientPharmacyNote,
    // The doc's example sends it; CaryRx sets the status itself.
    order_status: CARYRX_NEW_ORDER_STATUS,
  });

// --- fromWire ------------------------------------------------------------------------------------

type Loose<T> = Partial<T> | null | undefined;

export function entityRefFromWire(wire: Loose<CaryRxEntityRefWire>): CaryRxEntityRef | null {
  if (!wire || typeof wire !== 'object' || wire.id === undefined || wire.id === null) return null;
  return {
    entityType: str(wire.entity_type),
    id: String(wire.id),
    createdAt: date(wire.created_at),
    updatedAt: date(wire.updated_at ?? wire.updatedAt),
  };
}

export const entityRefsFromWire = (wire: unknown): CaryRxEntityRef[] =>
  Array.isArray(wire) ? wire.map((w) => entityRefFromWire(w as CaryRxEntityRefWire)).filter((r) => r !== null) : [];

export function webhookRegistrationFromWire(wire: unknown): CaryRxWebhookRegistrationResult {
  const w = (wire && typeof wire === 'object' ? wire : {}) as Partial<CaryRxWebhookRegistrationWire>;
  return { callbackUrl: str(w.callbackUrl), authType: str(w.authType) };
}

export function patientFromWire(wire: CaryRxPatientWire): CaryRxPatient {
  return {
    id: String(wire.id),
    firstName: str(wire.first_name),
    lastName: str(wire.last_name),
    dob: str(wire.dob),
    state: str(wire.state),
    caryPatient: bool(wire.cary_patient),
    pauseInterventions: bool(wire.pause_interventions),
    tags: Array.isArray(wire.tags) ? wire.tags : [],
    prescriptions: entityRefsFromWire(wire.prescriptions),
    orders: entityRefsFromWire(wire.orders),
    contactInfo: Array.isArray(wire.contact_info) ? wire.contact_info : [],
  };
}

function prescriberFromWire(wire: Loose<CaryRxPrescriberWire>): CaryRxPrescriber | null {
  if (!wire || typeof wire !== 'object') return null;
  return {
    name: str(wire.prescriber_name),
    clinic: str(wire.prescriber_clinic),
    address: str(wire.prescriber_address),
    address2: str(wire.prescriber_address2),
    city: str(wire.prescriber_city),
    state: str(wire.prescriber_state),
    zip: str(wire.prescriber_zip),
    phone: str(wire.prescriber_phone),
    fax: str(wire.prescriber_fax),
    npi: str(wire.prescriber_npi),
    dea: str(wire.prescriber_dea),
  };
}

export function prescriptionFromWire(wire: CaryRxPrescriptionWire): CaryRxPrescription {
  return {
    id: String(wire.id),
    source: str(wire.source),
    status: str(wire.status),
    medicationName: str(wire.medication_name),
    lastFill: str(wire.last_fill),
    daysSupply: num(wire.days_supply),
    qtyWritten: num(wire.qty_written),
    totalTabletsRemaining: num(wire.total_tablets_remaining),
    refillsRemaining: num(wire.refills_remaining),
    qtyDispensed: num(wire.qty_dispensed),
    refillsWritten: num(wire.refills_written),
    priorAuthStatus: str(wire.prior_auth_status),
    rxNumber: typeof wire.rx_number === 'number' || typeof wire.rx_number === 'string' ? wire.rx_number : null,
    priorAuthLastUpdate: str(wire.prior_auth_last_update),
    autoRefill: bool(wire.auto_refill),
    paymentToken: str(wire.payment_token),
    externalId: str(wire.external_id),
    patient: entityRefFromWire(wire.patient),
    prescriber: prescriberFromWire(wire.prescriber),
    updatedAt: date(wire.updatedAt ?? wire.updated_at),
  };
}

function orderPrescriptionRefFromWire(wire: CaryRxOrderPrescriptionRefWire): CaryRxOrderPrescriptionRef | null {
  const ref = entityRefFromWire(wire);
  return ref && { ...ref, prescription: str(wire.prescription), isRefill: bool(wire.is_refill) };
}

export function orderFromWire(wire: CaryRxOrderWire): CaryRxOrder {
  const hasAddress = ['address_to_name', 'address_to_street1', 'address_to_city', 'address_to_zip'].some(
    (k) => (wire as unknown as Record<string, unknown>)[k] != null,
  );
  const address: CaryRxAddress | null = hasAddress
    ? {
        name: str(wire.address_to_name),
        street1: str(wire.address_to_street1),
        street2: str(wire.address_to_street2),
        city: str(wire.address_to_city),
        state: str(wire.address_to_state),
        zip: str(wire.address_to_zip),
      }
    : null;
  return {
    id: String(wire.id),
    orderStatus: str(wire.order_status),
    shippingMethod: str(wire.shipping_method),
    packagingMethod: str(wire.packaging_method),
    deliverySchedule: str(wire.delivery_schedule),
    patientLocationId: str(wire.patient_location_id),
    centralFill: bool(wire.central_fill),
    address,
    shipmentTrackingUrl: str(wire.shipment_tracking_url),
    shipmentTrackingEta: date(wire.shipment_tracking_eta),
    samedayLocationX: str(wire.sameday_location_x),
    samedayLocationY: str(wire.sameday_location_y),
    createdAt: date(wire.created_at),
    updatedAt: date(wire.updatedAt ?? wire.updated_at),
    flags: wire.flags ?? null,
    activationCode: str(wire.activationCode ?? wire.activation_code),
    prescriptions: Array.isArray(wire.prescriptions)
      ? wire.prescriptions.map(orderPrescriptionRefFromWire).filter((r) => r !== null)
      : [],
    patient: entityRefFromWire(wire.patient),
  };
}

/** The delivery details of a read order (create or get), in the shape an event carries them. */
export const orderDeliveryDetails = (order: CaryRxOrder): CaryRxDeliveryDetails => ({
  trackingUrl: order.shipmentTrackingUrl,
  eta: order.shipmentTrackingEta,
  shippingMethod: order.shippingMethod,
  packagingMethod: order.packagingMethod,
  samedayLocationX: order.samedayLocationX,
  samedayLocationY: order.samedayLocationY,
});

// --- webhook bodies (validated by the webhook controllers; unknown fields are stripped) ---------
//
// Every field the document prints with a value is declared with that value's type, so a number
// where the document shows a string (or the reverse) is a 400 naming the field, not something we
// silently drop. Fields the document prints only as `null` (`prior_auth_status`, `flags`,
// `activationCode`, …) have no documented type and are not checked. Only ids, statuses,
// timestamps and the delivery details (tracking, shipping and packaging method, sameday location)
// are kept (see the events below); the rest is checked and dropped.

const ID_MAX = 64;
const STATUS_MAX = 64;
/**
 * Ids and statuses are plain printable ASCII in every CaryRx example (ids like `wuyhosgwuc`,
 * statuses like `ready_to_fill`); anything else (control characters, NUL, surrogates, bidi marks)
 * is refused before it reaches the database or a log line.
 */
const PRINTABLE_ID = /^[\x21-\x7e]+$/;
const PRINTABLE_TEXT = /^[\x20-\x7e]*$/;
const printableId = Matches(PRINTABLE_ID, { message: 'must contain only printable ASCII characters without spaces' });
const printableText = Matches(PRINTABLE_TEXT, { message: 'must contain only printable ASCII characters' });
/** A CaryRx id in an event body. */
const RequiredId = () =>
  applyDecorators(
    IsDefined({ message: 'is required' }),
    IsString({ message: 'must be a string' }),
    IsNotEmpty({ message: 'must not be empty' }),
    MaxLength(ID_MAX, { message: `must be at most ${ID_MAX} characters` }),
    printableId,
  );
/** A status or delivery detail we store: short printable text (fits the 64-character columns). */
const OptionalStoredText = () =>
  applyDecorators(
    IsOptional(),
    IsString({ message: 'must be a string' }),
    MaxLength(STATUS_MAX, { message: `must be at most ${STATUS_MAX} characters` }),
    printableText,
  );
/** A timestamp CaryRx may or may not send. */
const OptionalTimestamp = () => applyDecorators(IsOptional(), IsISO8601({}, { message: 'must be an ISO 8601 timestamp' }));
/** Fields we do not keep, checked for the type the document shows. */
const OptionalText = () => applyDecorators(IsOptional(), IsString({ message: 'must be a string' }));
const OptionalNumber = () => applyDecorators(IsOptional(), IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number' }));
const OptionalBoolean = () => applyDecorators(IsOptional(), IsBoolean({ message: 'must be a boolean' }));
const OptionalObject = (type: () => Function) => applyDecorators(IsOptional(), IsObject({ message: 'must be an object' }), Nested(type));

export class CaryRxEntityRefBody {
  @OptionalText()
  entity_type?: string | null;

  @RequiredId()
  id: string;

  @OptionalTimestamp()
  created_at?: string | null;

  @OptionalTimestamp()
  updated_at?: string | null;
}

/** An entry of an order's `prescriptions`: a ref, plus what get order prints beside it. */
export class CaryRxOrderPrescriptionRefBody extends CaryRxEntityRefBody {
  @OptionalText()
  prescription?: string | null;

  @OptionalBoolean()
  is_refill?: boolean | null;
}

/** The prescriber block of get prescription (its fields printed as `null` have no documented type). */
export class CaryRxPrescriberBody {
  @OptionalText()
  prescriber_name?: string | null;

  @OptionalText()
  prescriber_clinic?: string | null;

  @OptionalText()
  prescriber_address?: string | null;

  @OptionalText()
  prescriber_address2?: string | null;

  @OptionalText()
  prescriber_city?: string | null;

  @OptionalText()
  prescriber_state?: string | null;

  @OptionalText()
  prescriber_zip?: string | null;
}

/** A prescription event: the registration test payload and the shape of get prescription. */
@DocumentedByRules()
export class CaryRxPrescriptionEventBody {
  @RequiredId()
  id: string;

  @OptionalStoredText()
  status?: string | null;

  // Not in the doc's prescription payloads; read when present so ordering can be decided.
  @OptionalTimestamp()
  updated_at?: string | null;

  @OptionalTimestamp()
  updatedAt?: string | null;

  @OptionalText()
  source?: string | null;

  @OptionalText()
  medication_name?: string | null;

  // The doc prints `01 01 2000` and `2021 01 01`: a string, its separators a guess, so not a date rule.
  @OptionalText()
  last_fill?: string | null;

  @OptionalNumber()
  qty_written?: number | null;

  @OptionalNumber()
  days_supply?: number | null;

  @OptionalNumber()
  total_tablets_remaining?: number | null;

  @OptionalNumber()
  refills_remaining?: number | null;

  @OptionalNumber()
  refills_written?: number | null;

  @OptionalNumber()
  qty_dispensed?: number | null;

  // The doc prints a number (1231234); Rx numbers are often written with leading zeros, so a
  // string is read too (as CaryRxPrescriptionWire does).
  @IsOptional()
  @Rule('isNumberOrString', (v) => (typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string', 'must be a number or a string')
  rx_number?: number | string | null;

  @OptionalBoolean()
  auto_refill?: boolean | null;

  // The doc's test payload prints `entity_type: "prescription"` inside `patient`; only `id` matters.
  @OptionalObject(() => CaryRxEntityRefBody)
  patient?: CaryRxEntityRefBody | null;

  @OptionalObject(() => CaryRxPrescriberBody)
  prescriber?: CaryRxPrescriberBody | null;
}

/** An order event: the shape of the doc's order test payload and of get order. */
@DocumentedByRules()
export class CaryRxOrderEventBody {
  @RequiredId()
  id: string;

  @IsDefined({ message: 'is required' })
  @IsString({ message: 'must be a string' })
  @IsNotEmpty({ message: 'must not be empty' })
  @MaxLength(STATUS_MAX, { message: `must be at most ${STATUS_MAX} characters` })
  @printableText
  order_status: string;

  @OptionalStoredText()
  shipping_method?: string | null;

  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(2048, { message: 'must be at most 2048 characters' })
  shipment_tracking_url?: string | null;

  // The doc's sample has a timestamp here; a non-date value is kept out of `eta` rather than refused.
  @OptionalText()
  shipment_tracking_eta?: string | null;

  @OptionalTimestamp()
  created_at?: string | null;

  @OptionalTimestamp()
  updated_at?: string | null;

  @OptionalTimestamp()
  updatedAt?: string | null;

  @OptionalStoredText()
  packaging_method?: string | null;

  @OptionalText()
  delivery_schedule?: string | null;

  @OptionalText()
  patient_location_id?: string | null;

  @OptionalBoolean()
  central_fill?: boolean | null;

  @OptionalText()
  address_to_name?: string | null;

  @OptionalText()
  address_to_street1?: string | null;

  @OptionalText()
  address_to_street2?: string | null;

  @OptionalText()
  address_to_city?: string | null;

  @OptionalText()
  address_to_state?: string | null;

  @OptionalText()
  address_to_zip?: string | null;

  // The document prints "string"; kept verbatim (a number is refused rather than guessed at).
  @OptionalStoredText()
  sameday_location_x?: string | null;

  @OptionalStoredText()
  sameday_location_y?: string | null;

  @IsOptional()
  @IsArray({ message: 'must be an array' })
  @Nested(() => CaryRxOrderPrescriptionRefBody, { each: true })
  prescriptions?: CaryRxOrderPrescriptionRefBody[] | null;

  @OptionalObject(() => CaryRxEntityRefBody)
  patient?: CaryRxEntityRefBody | null;
}

/** What the webhook inbox keeps of a prescription event: ids, status, timestamp. No patient details. */
export interface CaryRxPrescriptionEvent {
  id: string;
  status: string | null;
  patientId: string | null;
  updatedAt: Date | null;
}

/** What CaryRx tells about an order's delivery, in an event or a read. Null: not sent. */
export interface CaryRxDeliveryDetails {
  trackingUrl: string | null;
  eta: Date | null;
  shippingMethod: string | null;
  packagingMethod: string | null;
  samedayLocationX: string | null;
  samedayLocationY: string | null;
}

/** What the webhook inbox keeps of an order event: ids, status, timestamps, delivery details. No name or address. */
export interface CaryRxOrderEvent extends CaryRxDeliveryDetails {
  id: string;
  orderStatus: string;
  updatedAt: Date | null;
  patientId: string | null;
  prescriptionIds: string[];
}

export function prescriptionEventFromWire(body: CaryRxPrescriptionEventBody): CaryRxPrescriptionEvent {
  return {
    id: body.id,
    status: str(body.status),
    patientId: body.patient?.id ?? null,
    updatedAt: date(body.updatedAt ?? body.updated_at),
  };
}

export function orderEventFromWire(body: CaryRxOrderEventBody): CaryRxOrderEvent {
  return {
    id: body.id,
    orderStatus: body.order_status,
    // Get order prints `updatedAt`, refs print `updated_at`: read both.
    updatedAt: date(body.updatedAt ?? body.updated_at),
    trackingUrl: str(body.shipment_tracking_url),
    eta: date(body.shipment_tracking_eta),
    shippingMethod: str(body.shipping_method),
    packagingMethod: str(body.packaging_method),
    samedayLocationX: str(body.sameday_location_x),
    samedayLocationY: str(body.sameday_location_y),
    patientId: body.patient?.id ?? null,
    prescriptionIds: (body.prescriptions ?? []).map((p) => p.id),
  };
}

// --- helpers -------------------------------------------------------------------------------------

function str(v: unknown): string | null {
  return v === undefined || v === null ? null : String(v);
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function bool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

/** ISO timestamps → Date; anything unreadable → null (never a wrong date). */
function date(v: unknown): Date | null {
  if (typeof v !== 'string' || v.trim() === '') return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

function withoutUndefined<T extends object>(o: T): T {
  for (const key of Object.keys(o) as Array<keyof T>) if (o[key] === undefined) delete o[key];
  return o;
}
