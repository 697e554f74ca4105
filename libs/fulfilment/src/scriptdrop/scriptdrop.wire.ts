/**
 * Every ScriptDrop wire spelling, in one file: paths, documented value sets, request/response
 * shapes and the mapping to and from the camelCase domain types of scriptdrop.types.ts.
 *
 * Source: the ScriptDrop Delivery API document (seeds/scriptdrop-delivery-api.txt). Its quirks,
 * handled here: `submitted to courier` has spaces (the other statuses underscores); get-multiple
 * answers `{"orders": [...]}` though its table says `objects` (both read); the cancellation reason is
 * `reason` in the examples and `cancellation_reason` in the table (both read); `signature_url` is
 * short-lived (mapped, never stored).
 */
import { SCRIPTDROP_IDENTIFICATION_QUALIFIERS } from './scriptdrop.values.js';
import type {
  ScriptDropAddressInput,
  ScriptDropCancellation,
  ScriptDropDelivery,
  ScriptDropEta,
  ScriptDropEvent,
  ScriptDropOrder,
  ScriptDropOrderInput,
  ScriptDropOtherItemInput,
  ScriptDropPayerInput,
  ScriptDropAddPrescriptionInput,
  ScriptDropDeliveryInformationInput,
  ScriptDropPrescriptionInput,
  ScriptDropRecipientIdentification,
  ScriptDropShipment,
  ScriptDropShippingInput,
} from './scriptdrop.types.js';

// --- paths ---------------------------------------------------------------------------------------

const seg = encodeURIComponent;
/** Relative to the configured host (`https://delivery.scriptdrop.co`). */
export const SCRIPTDROP_PATHS = {
  orders: '/api/v1/orders',
  order: (orderId: string) => `/api/v1/orders/${seg(orderId)}`,
  prescriptions: (orderId: string) => `/api/v1/orders/${seg(orderId)}/prescriptions`,
  prescription: (orderId: string, rxNumber: string) => `/api/v1/orders/${seg(orderId)}/prescriptions/${seg(rxNumber)}`,
  pharmacy: (pharmacyId: string) => `/api/v1/pharmacies/${seg(pharmacyId)}`,
} as const;

/** Query key of get-multiple: `ids[]=1&ids[]=2`. */
export const SCRIPTDROP_IDS_QUERY_KEY = 'ids[]';

/**
 * Query keys of Get Delivery Information. A reading of the document, which lists the parameters as
 * `:delivery.address` (an Address), `:POD`, `:package` and `:saturday.delivery` with no encoding: the
 * dots become the bracket nesting the API documents for `ids[]` (`delivery[address][street]=…`), and
 * the names keep the document's spelling (`POD` upper-case).
 */
export const SCRIPTDROP_DELIVERY_INFORMATION_QUERY = {
  address: (field: keyof ScriptDropAddressWire) => `delivery[address][${field}]`,
  pod: 'POD',
  package: 'package',
  saturdayDelivery: 'saturday[delivery]',
} as const;

// The documented value sets live in scriptdrop.values.ts; re-exported so one import serves.
export * from './scriptdrop.values.js';

// --- request shapes ------------------------------------------------------------------------------

export interface ScriptDropAddressWire {
  street: string;
  street2?: string;
  city: string;
  state: string;
  zipcode: string;
}

export interface ScriptDropAddPrescriptionWire {
  number: string;
  ndc: string;
  refrigeration: string;
  days_supply: number;
  fill_quantity: number;
  fill_number: number;
  patient_pay: number;
  prescriber: { first_name: string; last_name: string; npi: string; address: ScriptDropAddressWire };
  payers: Array<{ bin: string; pcn: string; rx_group: string; coverage_type: string; government_plan_indicator: boolean }>;
}

/** In a create-order body; add-prescription's table does not list `date_of_service`. */
export interface ScriptDropPrescriptionWire extends ScriptDropAddPrescriptionWire {
  date_of_service?: string;
}

export interface ScriptDropShippingWire {
  carrier: string;
  carrier_service: string;
  signature: string;
  saturday_delivery?: boolean;
  weight: { unit: string; value: number };
  package_code?: string;
  dimensions?: { unit: string; length: number; width: number; height: number };
}

export interface ScriptDropOrderRequestWire {
  service_level?: string;
  initiator?: string;
  ready_at?: string;
  service_date?: string;
  delivery_fee?: number;
  rx_amount_due?: number;
  other_items_amount_due?: number;
  delivery_notes?: string | null;
  external_reference_number?: string;
  photo_id_required?: boolean;
  pharmacy: { npi: string; ncpdp: string };
  recipient: {
    description: string;
    mobile_phone_number?: string;
    home_phone_number?: string;
    is_patient?: boolean;
    address: ScriptDropAddressWire;
  };
  patient: {
    first_name: string;
    last_name: string;
    gender: string;
    date_of_birth: string;
    mobile_phone_number?: string;
    home_phone_number?: string;
  };
  shipping?: ScriptDropShippingWire;
  prescriptions: ScriptDropPrescriptionWire[];
  other_items?: Array<{ sku: string; upc: string; description: string; quantity: number }>;
}

// --- response shapes -----------------------------------------------------------------------------

export interface ScriptDropEventWire {
  occurred_at?: string | null;
}

export interface ScriptDropOrderWire {
  id: string | number;
  status?: string | null;
  external_reference_number?: string | null;
  pickup?: ScriptDropEventWire | null;
  delivery?:
    | (ScriptDropEventWire & {
        signature_url?: string | null;
        signed_by?: string | null;
        relationship?: string | null;
        other_relationship_description?: string | null;
        recipient_identification?: {
          number?: string | null;
          jurisdiction_code?: string | null;
          qualifier?: string | null;
          type?: string | null;
        } | null;
        failure_reason?: string | null;
      })
    | null;
  return?: ScriptDropEventWire | null;
  shipping?: {
    tracking_number?: string | null;
    tracking_url?: string | null;
    carrier?: string | null;
    carrier_service?: string | null;
    label_pdf?: string | null;
    cost?: number | string | null;
    saturday_delivery?: boolean | null;
    delivery?: ScriptDropEventWire | null;
  } | null;
  cancellation?: (ScriptDropEventWire & { reason?: string | null; cancellation_reason?: string | null }) | null;
  eta?: { arrival_at?: string | null; type?: string | null } | null;
}

/** Create, get, add-prescription: `{"order": {...}}`. */
export interface ScriptDropOrderEnvelopeWire {
  order?: ScriptDropOrderWire | null;
}

/** Get-multiple: `{"orders": [...]}` in the example, `objects` in the table. */
export interface ScriptDropOrdersEnvelopeWire {
  orders?: ScriptDropOrderWire[] | null;
  objects?: ScriptDropOrderWire[] | null;
}

/** `{"error": {"message": "..."}}` */
export interface ScriptDropErrorWire {
  error: { message: string };
}

// --- to the wire ---------------------------------------------------------------------------------

/** Copies only the keys whose value is not undefined (null is kept: it is meant). */
function defined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

export function addressToWire(a: ScriptDropAddressInput): ScriptDropAddressWire {
  return defined({ street: a.street, street2: a.street2, city: a.city, state: a.state, zipcode: a.zipcode });
}

function payerToWire(p: ScriptDropPayerInput) {
  return {
    bin: p.bin,
    pcn: p.pcn,
    rx_group: p.rxGroup,
    coverage_type: p.coverageType,
    government_plan_indicator: p.governmentPlanIndicator,
  };
}

/** The add-prescription body. */
export function addPrescriptionToWire(rx: ScriptDropAddPrescriptionInput): ScriptDropAddPrescriptionWire {
  return defined({
    number: rx.number,
    ndc: rx.ndc,
    refrigeration: rx.refrigeration,
    days_supply: rx.daysSupply,
    fill_quantity: rx.fillQuantity,
    fill_number: rx.fillNumber,
    patient_pay: rx.patientPay,
    prescriber: {
      first_name: rx.prescriber.firstName,
      last_name: rx.prescriber.lastName,
      npi: rx.prescriber.npi,
      address: addressToWire(rx.prescriber.address),
    },
    payers: rx.payers.map(payerToWire),
  });
}

/** A prescription of a create-order body. */
export function prescriptionToWire(rx: ScriptDropPrescriptionInput): ScriptDropPrescriptionWire {
  return defined({ ...addPrescriptionToWire(rx), date_of_service: rx.dateOfService });
}

/** Get Delivery Information's parameters as query parameters; absent optional ones are left out. */
export function deliveryInformationToQuery(input: ScriptDropDeliveryInformationInput): Record<string, string | undefined> {
  const q = SCRIPTDROP_DELIVERY_INFORMATION_QUERY;
  const address = addressToWire(input.deliveryAddress);
  const query: Record<string, string | undefined> = {};
  for (const [field, value] of Object.entries(address)) query[q.address(field as keyof ScriptDropAddressWire)] = value;
  query[q.pod] = input.pod;
  query[q.package] = input.package;
  query[q.saturdayDelivery] = input.saturdayDelivery === undefined ? undefined : String(input.saturdayDelivery);
  return query;
}

function otherItemToWire(item: ScriptDropOtherItemInput) {
  return { sku: item.sku, upc: item.upc, description: item.description, quantity: item.quantity };
}

function shippingToWire(s: ScriptDropShippingInput): ScriptDropShippingWire {
  return defined({
    carrier: s.carrier,
    carrier_service: s.carrierService,
    signature: s.signature,
    saturday_delivery: s.saturdayDelivery,
    weight: { unit: s.weight.unit, value: s.weight.value },
    package_code: s.packageCode,
    dimensions: s.dimensions
      ? { unit: s.dimensions.unit, length: s.dimensions.length, width: s.dimensions.width, height: s.dimensions.height }
      : undefined,
  });
}

/**
 * The create-order body. `service_level` is sent only when given (ScriptDrop assumes `sameday`
 * without it, as the document's sameday example does); `deliveryNotes: null` is sent as `null`.
 */
export function orderToWire(o: ScriptDropOrderInput): ScriptDropOrderRequestWire {
  return defined({
    service_level: o.serviceLevel,
    initiator: o.initiator,
    ready_at: o.readyAt,
    service_date: o.serviceDate,
    delivery_fee: o.deliveryFee,
    rx_amount_due: o.rxAmountDue,
    other_items_amount_due: o.otherItemsAmountDue,
    delivery_notes: o.deliveryNotes,
    external_reference_number: o.externalReferenceNumber,
    photo_id_required: o.photoIdRequired,
    pharmacy: { npi: o.pharmacy.npi, ncpdp: o.pharmacy.ncpdp },
    recipient: defined({
      description: o.recipient.description,
      mobile_phone_number: o.recipient.mobilePhoneNumber,
      home_phone_number: o.recipient.homePhoneNumber,
      is_patient: o.recipient.isPatient,
      address: addressToWire(o.recipient.address),
    }),
    patient: defined({
      first_name: o.patient.firstName,
      last_name: o.patient.lastName,
      gender: o.patient.gender,
      date_of_birth: o.patient.dateOfBirth,
      mobile_phone_number: o.patient.mobilePhoneNumber,
      home_phone_number: o.patient.homePhoneNumber,
    }),
    shipping: o.shipping ? shippingToWire(o.shipping) : undefined,
    prescriptions: o.prescriptions.map(prescriptionToWire),
    other_items: o.otherItems?.map(otherItemToWire),
  });
}

// --- from the wire -------------------------------------------------------------------------------

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/** An ISO 8601 timestamp, or null when absent or unreadable. */
function date(v: unknown): Date | null {
  if (typeof v !== 'string' || v.trim() === '') return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

function eventFromWire(v: unknown): ScriptDropEvent | null {
  return isRecord(v) ? { occurredAt: date(v.occurred_at) } : null;
}

export function recipientIdentificationFromWire(v: unknown): ScriptDropRecipientIdentification | null {
  if (!isRecord(v)) return null;
  const qualifier = str(v.qualifier);
  return {
    number: str(v.number),
    type: str(v.type),
    qualifier,
    qualifierDescription: qualifier !== null ? (SCRIPTDROP_IDENTIFICATION_QUALIFIERS[qualifier.padStart(2, '0')] ?? null) : null,
    jurisdictionCode: str(v.jurisdiction_code),
  };
}

function deliveryFromWire(v: unknown): ScriptDropDelivery | null {
  if (!isRecord(v)) return null;
  return {
    occurredAt: date(v.occurred_at),
    signatureUrl: str(v.signature_url),
    signedBy: str(v.signed_by),
    relationship: str(v.relationship),
    otherRelationshipDescription: str(v.other_relationship_description),
    recipientIdentification: recipientIdentificationFromWire(v.recipient_identification),
    failureReason: str(v.failure_reason),
  };
}

function shippingFromWire(v: unknown): ScriptDropShipment | null {
  if (!isRecord(v)) return null;
  return {
    carrier: str(v.carrier),
    carrierService: str(v.carrier_service),
    trackingNumber: str(v.tracking_number),
    trackingUrl: str(v.tracking_url),
    labelUrl: str(v.label_pdf),
    cost: num(v.cost),
    saturdayDelivery: bool(v.saturday_delivery),
    delivery: eventFromWire(v.delivery),
  };
}

/** Reads `reason` (the document's examples) or `cancellation_reason` (its table). */
export function cancellationFromWire(v: unknown): ScriptDropCancellation | null {
  if (!isRecord(v)) return null;
  return { occurredAt: date(v.occurred_at), reason: str(v.reason) ?? str(v.cancellation_reason) };
}

function etaFromWire(v: unknown): ScriptDropEta | null {
  return isRecord(v) ? { arrivalAt: date(v.arrival_at), type: str(v.type) } : null;
}

/** The status as ScriptDrop spells it (trimmed). Unknown statuses are kept verbatim. */
export function statusFromWire(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

/** True when the value has an id: the least we need to use an order object. */
export function isOrderWire(v: unknown): v is ScriptDropOrderWire {
  return isRecord(v) && (typeof v.id === 'string' || typeof v.id === 'number') && String(v.id) !== '';
}

export function orderFromWire(w: ScriptDropOrderWire): ScriptDropOrder {
  return {
    id: String(w.id),
    status: statusFromWire(w.status),
    externalReferenceNumber: str(w.external_reference_number),
    pickup: eventFromWire(w.pickup),
    delivery: deliveryFromWire(w.delivery),
    return: eventFromWire(w.return),
    shipping: shippingFromWire(w.shipping),
    cancellation: cancellationFromWire(w.cancellation),
    eta: etaFromWire(w.eta),
  };
}

/** The order of a `{"order": {...}}` answer, or undefined when the answer carries none. */
export function orderOfEnvelope(data: unknown): ScriptDropOrderWire | undefined {
  const order = isRecord(data) ? data.order : undefined;
  return isOrderWire(order) ? order : undefined;
}

/** The orders of a get-multiple answer (`orders`, or `objects` as the table names it); undefined when neither is a list. */
export function ordersOfEnvelope(data: unknown): ScriptDropOrderWire[] | undefined {
  if (!isRecord(data)) return undefined;
  const list = Array.isArray(data.orders) ? data.orders : Array.isArray(data.objects) ? data.objects : undefined;
  return list?.filter(isOrderWire);
}

export function errorToWire(message: string): ScriptDropErrorWire {
  return { error: { message } };
}

// --- request bodies, key for key -----------------------------------------------------------------

/**
 * The request mapping above (orderToWire, addPrescriptionToWire) renames no field: every wire key is
 * its domain key in snake_case (`carrier_service` ↔ `carrierService`, `other_items` ↔ `otherItems`),
 * and values pass unchanged. So a wire request body reads back as domain input by converting its
 * keys, with no second copy of the mapping (scriptdrop.wire.spec.ts checks the round trip on the
 * document's examples). The simulator validates what it receives this way, with the client's DTOs.
 * A key starting with `_` (the printed `_comment`) is kept as it is.
 */
export const wireKeyToDomain = (key: string): string => key.replace(/(?<=[a-z0-9])_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
export const domainKeyToWire = (key: string): string => key.replace(/(?<=[a-z0-9])([A-Z])/g, (_m, c: string) => `_${c.toLowerCase()}`);

function mapKeys(value: unknown, rename: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => mapKeys(v, rename));
  if (!isRecord(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [rename(k), mapKeys(v, rename)]));
}

/** A wire request body (create order, add prescription) as domain input, unvalidated. Check nesting depth first. */
export const requestFromWire = (body: unknown): unknown => mapKeys(body, wireKeyToDomain);
/** Domain input as a wire request body, keeping unknown keys (orderToWire leaves them out). */
export const requestToWire = (input: unknown): unknown => mapKeys(input, domainKeyToWire);
/** A domain field path (`shipping.carrierService`, `prescriptions[0].payers[1].rxGroup`) in wire spelling. */
export const wirePath = (path: string): string => path.replace(/[A-Za-z0-9_]+/g, domainKeyToWire);
/** A rule message with the domain field names it mentions (`packageCode`) in wire spelling (`package_code`). */
export const wireWords = (message: string): string => message.replace(/\b[a-z]+(?:[A-Z][a-z0-9]*)+\b/g, domainKeyToWire);
