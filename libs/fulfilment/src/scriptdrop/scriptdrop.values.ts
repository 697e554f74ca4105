/**
 * ScriptDrop's documented value sets and limits. Their own file so scriptdrop.types.ts (domain
 * types built from them) and scriptdrop.wire.ts (the wire mapping, built on the domain types) each
 * import it, without importing each other in a circle.
 */

export const SCRIPTDROP_SERVICE_LEVELS = ['sameday', 'ondemand', 'shipping'] as const;
/** What ScriptDrop assumes when `service_level` is absent. */
export const SCRIPTDROP_DEFAULT_SERVICE_LEVEL = 'sameday';
export const SCRIPTDROP_INITIATORS = ['pharmacy'] as const;
export const SCRIPTDROP_GENDERS = ['male', 'female', 'unspecified'] as const;
export const SCRIPTDROP_REFRIGERATION = ['none', 'fridge', 'frozen'] as const;
export const SCRIPTDROP_COVERAGE_TYPES = ['primary', 'secondary', 'tertiary'] as const;
export const SCRIPTDROP_CARRIERS = ['USPS', 'UPS', 'FedEx'] as const;
export const SCRIPTDROP_SIGNATURES = ['none', 'required', 'adult_required', 'patient_signature'] as const;
export const SCRIPTDROP_WEIGHT_UNITS = ['ounce', 'pound'] as const;
export const SCRIPTDROP_DIMENSION_UNITS = ['inch'] as const;

/** Carrier services, by carrier. */
export const SCRIPTDROP_CARRIER_SERVICES_BY_CARRIER = {
  USPS: ['USPS Priority Mail', 'USPS Priority Mail Express', 'USPS First Class Mail'],
  UPS: ['UPS Ground', 'UPS 2nd Day Air', 'UPS Next Day Air'],
  FedEx: ['FedEx 2 Day', 'FedEx Standard Overnight', 'FedEx Priority Overnight', 'FedEx Ground', 'FedEx Home Delivery'],
} as const;
export const SCRIPTDROP_CARRIER_SERVICES = [
  ...SCRIPTDROP_CARRIER_SERVICES_BY_CARRIER.USPS,
  ...SCRIPTDROP_CARRIER_SERVICES_BY_CARRIER.UPS,
  ...SCRIPTDROP_CARRIER_SERVICES_BY_CARRIER.FedEx,
] as const;

/** Signature types each carrier supports (all support `none`). */
export const SCRIPTDROP_CARRIER_SIGNATURES = {
  USPS: ['none', 'required', 'adult_required', 'patient_signature'],
  UPS: ['none', 'required', 'adult_required'],
  FedEx: ['none', 'required', 'patient_signature', 'adult_required'],
} as const;

/** Package codes by carrier; UPS has none. */
export const SCRIPTDROP_PACKAGE_CODES_BY_CARRIER = {
  USPS: ['usps_small_flat_rate_box', 'usps_medium_flat_rate_box', 'usps_large_flat_rate_box'],
  UPS: [],
  FedEx: [
    'fedex_envelope_onerate',
    'fedex_small_box_onerate',
    'fedex_medium_box_onerate',
    'fedex_large_box_onerate',
    'fedex_extra_large_box_onerate',
  ],
} as const;
export const SCRIPTDROP_PACKAGE_CODES = [...SCRIPTDROP_PACKAGE_CODES_BY_CARRIER.USPS, ...SCRIPTDROP_PACKAGE_CODES_BY_CARRIER.FedEx] as const;

/** The only carrier services offering Saturday delivery. */
export const SCRIPTDROP_SATURDAY_SERVICES = ['UPS 2nd Day Air', 'UPS Next Day Air'] as const;
/** USPS First Class Mail takes packages under 1 pound. */
export const SCRIPTDROP_FIRST_CLASS_SERVICE = 'USPS First Class Mail';
export const OUNCES_PER_POUND = 16;

/** The documented order statuses, verbatim (note the spaces in `submitted to courier`). */
export const SCRIPTDROP_ORDER_STATUSES = [
  'new',
  'submitted to courier',
  'picked_up',
  'delivered',
  'delivery_attempted',
  'returned_to_pharmacy',
  'cancelled',
] as const;
/** Statuses in which ScriptDrop accepts a cancel. */
export const SCRIPTDROP_CANCELLABLE_STATUSES = ['new', 'submitted to courier'] as const;

/** Recipient Identification Qualifiers table. */
export const SCRIPTDROP_IDENTIFICATION_QUALIFIERS: Readonly<Record<string, string>> = {
  '01': 'Military ID',
  '02': 'State Issued ID',
  '03': 'Unique System ID',
  '04': 'Permanent Resident Card (Green Card)',
  '05': 'Passport ID',
  '06': 'Driver’s License ID',
  '07': 'Social Security Number',
  '08': 'Tribal ID',
};

/** The document's own error messages (the simulator answers with them). */
export const SCRIPTDROP_MESSAGES = {
  notCancellable: 'Order is not in a cancellable status',
  noSaturdayDelivery: 'Carrier service level does not offer saturday delivery.',
} as const;

/** Limits from the parameter tables. */
export const SCRIPTDROP_LIMITS = {
  deliveryNotes: 280,
  externalReferenceNumber: 255,
  recipientDescription: 71,
  patientFirstName: 30,
  patientLastName: 40,
  street: 255,
  city: 255,
  rxNumber: 255,
  bin: 255,
  pcn: 255,
} as const;

