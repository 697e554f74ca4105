/**
 * Validation of what hosts pass to ScriptDropService and ScriptDropFulfilment: every rule of the
 * document's parameter tables (lengths, required fields, types, enums, the rules that depend on the
 * service level or the carrier), checked before anything is sent. validateInput turns the failures
 * into one FulfilmentValidationError naming every bad field path (camelCase, e.g.
 * `recipient.address.zipcode`). Messages name the rule, never the value. The public DTOs describe
 * themselves (and the classes nested in them) to @nestjs/swagger from these rules (DocumentedByRules).
 *
 * Readings of the document, where it is silent or contradicts itself:
 * - `deliveryFee` and `rxAmountDue` are required for `sameday` (the default level) and optional
 *   otherwise; the document's ondemand and shipping examples send them too.
 * - `otherItemsAmountDue` and `photoIdRequired` are "only supported for sameday". The document's own
 *   ondemand example sends `other_items_amount_due: 3.50` and its shipping example `0.00`, so we
 *   read "sameday" there as courier delivery (sameday and ondemand) and refuse, for `shipping`, a
 *   value that asks for the feature (an amount other than 0, `photoIdRequired: true`).
 * - `shipping` is required for `shipping` and refused for the other levels; `readyAt` is required
 *   for `ondemand`.
 * - `prescriptions` needs at least one entry; `payers` may be empty (cash).
 * - Numeric codes (NPI, NCPDP, NDC, phones, zipcode) must be digits of the documented length.
 */
import { Transform } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { DocumentedByRules } from '../openapi/documented-by-rules.js';
import { IsPastCalendarDate, Nested, Rule } from '../validation.js';
import type {
  ScriptDropAddressInput,
  ScriptDropCarrier,
  ScriptDropOrderInput,
  ScriptDropOtherItemInput,
  ScriptDropPatientInput,
  ScriptDropPayerInput,
  ScriptDropPharmacyInput,
  ScriptDropPrescriberInput,
  ScriptDropAddPrescriptionInput,
  ScriptDropDeliveryInformationInput,
  ScriptDropPrescriptionInput,
  ScriptDropRecipientInput,
  ScriptDropShippingInput,
} from './scriptdrop.types.js';
import {
  OUNCES_PER_POUND,
  SCRIPTDROP_CARRIERS,
  SCRIPTDROP_CARRIER_SERVICES,
  SCRIPTDROP_CARRIER_SERVICES_BY_CARRIER,
  SCRIPTDROP_CARRIER_SIGNATURES,
  SCRIPTDROP_COVERAGE_TYPES,
  SCRIPTDROP_DEFAULT_SERVICE_LEVEL,
  SCRIPTDROP_DIMENSION_UNITS,
  SCRIPTDROP_FIRST_CLASS_SERVICE,
  SCRIPTDROP_GENDERS,
  SCRIPTDROP_INITIATORS,
  SCRIPTDROP_LIMITS as L,
  SCRIPTDROP_PACKAGE_CODES,
  SCRIPTDROP_PACKAGE_CODES_BY_CARRIER,
  SCRIPTDROP_REFRIGERATION,
  SCRIPTDROP_SATURDAY_SERVICES,
  SCRIPTDROP_SERVICE_LEVELS,
  SCRIPTDROP_SIGNATURES,
  SCRIPTDROP_WEIGHT_UNITS,
} from './scriptdrop.wire.js';

// --- building blocks -----------------------------------------------------------------------------

const apply = (...decorators: PropertyDecorator[]): PropertyDecorator => (target, key) => decorators.forEach((d) => d(target, key));
const oneOf = (values: readonly string[]) => IsIn(values as string[], { message: `must be one of: ${values.join(', ')}` });

const required = () => IsDefined({ message: 'is required' });
/** A required, non-empty string, optionally at most `max` characters. */
const text = (max?: number) =>
  apply(
    required(),
    IsString({ message: 'must be a string' }),
    IsNotEmpty({ message: 'must not be empty' }),
    ...(max ? [MaxLength(max, { message: `must be at most ${max} characters` })] : []),
  );
const optionalText = (max: number) =>
  apply(IsOptional(), IsString({ message: 'must be a string' }), MaxLength(max, { message: `must be at most ${max} characters` }));
const digits = (n: number) => Matches(new RegExp(`^\\d{${n}}$`), { message: `must be exactly ${n} digits` });
const decimal = (min = 0) =>
  apply(
    IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number' }),
    Min(min, { message: `must be at least ${min}` }),
  );
const integer = (min = 0) => apply(IsInt({ message: 'must be an integer' }), Min(min, { message: `must be at least ${min}` }));
const boolean = () => IsBoolean({ message: 'must be a boolean' });
const nested = (type: () => new () => object) => Nested(type);
const nestedList = (type: () => new () => object) => apply(IsArray({ message: 'must be an array' }), Nested(type, { each: true }));
const positive = () =>
  apply(
    required(),
    IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number' }),
    Rule('isPositive', (v) => typeof v !== 'number' || v > 0, 'must be greater than 0'),
  );

/** `YYYY-MM-DD`, a real calendar date. */
const calendarDate = () =>
  Rule(
    'isCalendarDate',
    (v) => {
      if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
      const d = new Date(`${v}T00:00:00Z`);
      return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
    },
    'must be an ISO 8601 date (YYYY-MM-DD)',
  );

/** An ISO 8601 timestamp with a time and an offset, e.g. `2019-01-02T13:00:00-05:00`. */
const timestamp = () =>
  Rule(
    'isIsoTimestamp',
    (v) =>
      typeof v === 'string' &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(v) &&
      !Number.isNaN(new Date(v).getTime()),
    'must be an ISO 8601 timestamp with a time zone (e.g. 2019-01-02T13:00:00-05:00)',
  );

/**
 * What a nested object needs to know about the order around it (class-validator only shows a
 * validator the object that holds the property). Attached by the parent's @Transform as a symbol
 * property, so whitelisting never sees it.
 */
const CONTEXT = Symbol('scriptdrop.validation.context');
interface ValidationContext {
  serviceLevel?: string;
  idempotencyKey?: string;
}
const withContext = (make: (parent: any) => ValidationContext) =>
  Transform(({ value, obj }) => {
    if (typeof value === 'object' && value !== null) {
      Object.defineProperty(value, CONTEXT, { value: make(obj), enumerable: false, configurable: true });
    }
    return value;
  });
const contextOf = (holder: unknown): ValidationContext => ((holder as Record<symbol, ValidationContext> | undefined)?.[CONTEXT] ?? {});

const levelOf = (order: { serviceLevel?: unknown }): unknown => order.serviceLevel ?? SCRIPTDROP_DEFAULT_SERVICE_LEVEL;
const isCarrier = (v: unknown): v is ScriptDropCarrier => (SCRIPTDROP_CARRIERS as readonly unknown[]).includes(v);

// --- DTOs ----------------------------------------------------------------------------------------

export class ScriptDropAddressDto implements ScriptDropAddressInput {
  @text(L.street)
  street: string;

  @optionalText(L.street)
  street2?: string;

  @text(L.city)
  city: string;

  @required()
  @Matches(/^[A-Za-z]{2}$/, { message: 'must be a two-letter state abbreviation' })
  state: string;

  @required()
  @Matches(/^(\d{5}|\d{9})$/, { message: 'must be 5 or 9 digits' })
  zipcode: string;
}

export class ScriptDropPharmacyDto implements ScriptDropPharmacyInput {
  @required()
  @digits(10)
  npi: string;

  @required()
  @digits(7)
  ncpdp: string;
}

export class ScriptDropRecipientDto implements ScriptDropRecipientInput {
  @text(L.recipientDescription)
  description: string;

  @IsOptional()
  @digits(10)
  mobilePhoneNumber?: string;

  @IsOptional()
  @digits(10)
  homePhoneNumber?: string;

  @IsOptional()
  @boolean()
  isPatient?: boolean;

  @required()
  @nested(() => ScriptDropAddressDto)
  address: ScriptDropAddressDto;
}

type Phone = 'mobilePhoneNumber' | 'homePhoneNumber';
/** A patient phone is checked when given, and required for shipping when the other one is missing. */
const checkPhone = (self: Phone, other: Phone) => (p: ScriptDropPatientDto) =>
  p[self] !== undefined || (contextOf(p).serviceLevel === 'shipping' && p[other] === undefined);

export class ScriptDropPatientDto implements ScriptDropPatientInput {
  @text(L.patientFirstName)
  firstName: string;

  @text(L.patientLastName)
  lastName: string;

  @required()
  @oneOf(SCRIPTDROP_GENDERS)
  gender: (typeof SCRIPTDROP_GENDERS)[number];

  @required()
  @IsPastCalendarDate({ message: 'must be an ISO 8601 date (YYYY-MM-DD), not in the future' })
  dateOfBirth: string;

  @ValidateIf(checkPhone('mobilePhoneNumber', 'homePhoneNumber'))
  @IsDefined({ message: 'is required for shipping when homePhoneNumber is not given' })
  @digits(10)
  mobilePhoneNumber?: string;

  @ValidateIf(checkPhone('homePhoneNumber', 'mobilePhoneNumber'))
  @IsDefined({ message: 'is required for shipping when mobilePhoneNumber is not given' })
  @digits(10)
  homePhoneNumber?: string;
}

export class ScriptDropPrescriberDto implements ScriptDropPrescriberInput {
  @text()
  firstName: string;

  @text()
  lastName: string;

  @text()
  npi: string;

  @required()
  @nested(() => ScriptDropAddressDto)
  address: ScriptDropAddressDto;
}

export class ScriptDropPayerDto implements ScriptDropPayerInput {
  @text(L.bin)
  bin: string;

  @text(L.pcn)
  pcn: string;

  @text()
  rxGroup: string;

  @required()
  @oneOf(SCRIPTDROP_COVERAGE_TYPES)
  coverageType: (typeof SCRIPTDROP_COVERAGE_TYPES)[number];

  @required()
  @boolean()
  governmentPlanIndicator: boolean;
}

/** The body of add-prescription (its table has no `date_of_service`, so it is an unknown field here). */
@DocumentedByRules()
export class ScriptDropAddPrescriptionDto implements ScriptDropAddPrescriptionInput {
  @text(L.rxNumber)
  number: string;

  @required()
  @digits(11)
  ndc: string;

  @required()
  @oneOf(SCRIPTDROP_REFRIGERATION)
  refrigeration: (typeof SCRIPTDROP_REFRIGERATION)[number];

  @required()
  @integer()
  daysSupply: number;

  @required()
  @decimal()
  fillQuantity: number;

  @required()
  @integer()
  fillNumber: number;

  @required()
  @decimal()
  patientPay: number;

  @required()
  @nested(() => ScriptDropPrescriberDto)
  prescriber: ScriptDropPrescriberDto;

  @required()
  @nestedList(() => ScriptDropPayerDto)
  payers: ScriptDropPayerDto[];
}

/** One prescription of a create-order body: add-prescription's fields and `date_of_service`. */
@DocumentedByRules()
export class ScriptDropPrescriptionDto extends ScriptDropAddPrescriptionDto implements ScriptDropPrescriptionInput {
  @IsOptional()
  @calendarDate()
  dateOfService?: string;
}

export class ScriptDropOtherItemDto implements ScriptDropOtherItemInput {
  @text()
  upc: string;

  @text()
  sku: string;

  @required()
  @integer(1)
  quantity: number;

  @text()
  description: string;
}

export class ScriptDropWeightDto {
  @required()
  @oneOf(SCRIPTDROP_WEIGHT_UNITS)
  unit: (typeof SCRIPTDROP_WEIGHT_UNITS)[number];

  @positive()
  value: number;
}

export class ScriptDropDimensionsDto {
  @required()
  @oneOf(SCRIPTDROP_DIMENSION_UNITS)
  unit: (typeof SCRIPTDROP_DIMENSION_UNITS)[number];

  @positive()
  length: number;

  @positive()
  width: number;

  @positive()
  height: number;
}

/** The message of the saturday-delivery rule (the simulator answers it with the document's own words). */
export const SCRIPTDROP_SATURDAY_RULE_MESSAGE = `is only available for ${SCRIPTDROP_SATURDAY_SERVICES.join(' and ')}`;

/** The weight in pounds, or undefined when it cannot be read (its own rules report that). */
function pounds(weight: unknown): number | undefined {
  const w = weight as { unit?: unknown; value?: unknown } | undefined;
  if (typeof w?.value !== 'number') return undefined;
  if (w.unit === 'pound') return w.value;
  if (w.unit === 'ounce') return w.value / OUNCES_PER_POUND;
  return undefined;
}

export class ScriptDropShippingDto implements ScriptDropShippingInput {
  @required()
  @oneOf(SCRIPTDROP_CARRIERS)
  carrier: ScriptDropCarrier;

  @required()
  @oneOf(SCRIPTDROP_CARRIER_SERVICES)
  @Rule(
    'carrierServiceOfCarrier',
    (v, s: ScriptDropShippingDto) => !isCarrier(s.carrier) || (SCRIPTDROP_CARRIER_SERVICES_BY_CARRIER[s.carrier] as readonly unknown[]).includes(v),
    'must be a service of the chosen carrier',
  )
  carrierService: (typeof SCRIPTDROP_CARRIER_SERVICES)[number];

  @required()
  @oneOf(SCRIPTDROP_SIGNATURES)
  @Rule(
    'signatureOfCarrier',
    (v, s: ScriptDropShippingDto) => !isCarrier(s.carrier) || (SCRIPTDROP_CARRIER_SIGNATURES[s.carrier] as readonly unknown[]).includes(v),
    'must be one the chosen carrier supports (USPS: none, required, adult_required, patient_signature; UPS: none, required, adult_required; FedEx: none, required, patient_signature, adult_required)',
  )
  signature: (typeof SCRIPTDROP_SIGNATURES)[number];

  @IsOptional()
  @boolean()
  @Rule(
    'saturdayDeliveryService',
    (v, s: ScriptDropShippingDto) => v !== true || (SCRIPTDROP_SATURDAY_SERVICES as readonly unknown[]).includes(s.carrierService),
    SCRIPTDROP_SATURDAY_RULE_MESSAGE,
  )
  saturdayDelivery?: boolean;

  @required()
  @nested(() => ScriptDropWeightDto)
  @Rule(
    'firstClassUnderOnePound',
    (v, s: ScriptDropShippingDto) => s.carrierService !== SCRIPTDROP_FIRST_CLASS_SERVICE || (pounds(v) ?? 0) < 1,
    `must be under 1 pound (${OUNCES_PER_POUND} ounces) for ${SCRIPTDROP_FIRST_CLASS_SERVICE}`,
  )
  weight: ScriptDropWeightDto;

  @IsOptional()
  @oneOf(SCRIPTDROP_PACKAGE_CODES)
  @Rule(
    'packageCodeOfCarrier',
    (v, s: ScriptDropShippingDto) => !isCarrier(s.carrier) || (SCRIPTDROP_PACKAGE_CODES_BY_CARRIER[s.carrier] as readonly unknown[]).includes(v),
    'must be a package code of the chosen carrier (UPS has none)',
  )
  packageCode?: (typeof SCRIPTDROP_PACKAGE_CODES)[number];

  @ValidateIf((s: ScriptDropShippingDto) => s.packageCode === undefined || s.packageCode === null || s.dimensions !== undefined)
  @IsDefined({ message: 'is required when packageCode is not set' })
  @nested(() => ScriptDropDimensionsDto)
  dimensions?: ScriptDropDimensionsDto;
}

@DocumentedByRules()
export class ScriptDropOrderInputDto implements ScriptDropOrderInput {
  @IsOptional()
  @oneOf(SCRIPTDROP_SERVICE_LEVELS)
  serviceLevel?: (typeof SCRIPTDROP_SERVICE_LEVELS)[number];

  @IsOptional()
  @oneOf(SCRIPTDROP_INITIATORS)
  initiator?: 'pharmacy';

  @ValidateIf((o: ScriptDropOrderInputDto) => levelOf(o) === 'ondemand' || o.readyAt !== undefined)
  @IsDefined({ message: 'is required for service level ondemand' })
  @timestamp()
  readyAt?: string;

  @IsOptional()
  @calendarDate()
  serviceDate?: string;

  @ValidateIf((o: ScriptDropOrderInputDto) => levelOf(o) === 'sameday' || o.deliveryFee !== undefined)
  @IsDefined({ message: 'is required for service level sameday' })
  @decimal()
  deliveryFee?: number;

  @ValidateIf((o: ScriptDropOrderInputDto) => levelOf(o) === 'sameday' || o.rxAmountDue !== undefined)
  @IsDefined({ message: 'is required for service level sameday' })
  @decimal()
  rxAmountDue?: number;

  @IsOptional()
  @decimal()
  @Rule('notForShipping', (v, o: ScriptDropOrderInputDto) => levelOf(o) !== 'shipping' || v === 0, 'is only supported for sameday and ondemand (leave it out or 0 for shipping)')
  otherItemsAmountDue?: number;

  @optionalText(L.deliveryNotes)
  deliveryNotes?: string | null;

  @optionalText(L.externalReferenceNumber)
  @Rule(
    'externalReferenceIsIdempotencyKey',
    (v, o) => {
      const key = contextOf(o).idempotencyKey;
      return key === undefined || v === key;
    },
    'must be left out or equal idempotencyKey (ScriptDropFulfilment sends the idempotency key as externalReferenceNumber)',
  )
  externalReferenceNumber?: string;

  @IsOptional()
  @boolean()
  @Rule('notForShipping', (v, o: ScriptDropOrderInputDto) => levelOf(o) !== 'shipping' || v === false, 'is only supported for sameday and ondemand (leave it out or false for shipping)')
  photoIdRequired?: boolean;

  @required()
  @nested(() => ScriptDropPharmacyDto)
  pharmacy: ScriptDropPharmacyDto;

  @required()
  @nested(() => ScriptDropRecipientDto)
  recipient: ScriptDropRecipientDto;

  @required()
  @nested(() => ScriptDropPatientDto)
  @withContext((o: ScriptDropOrderInput) => ({ serviceLevel: String(levelOf(o)) }))
  patient: ScriptDropPatientDto;

  @ValidateIf((o: ScriptDropOrderInputDto) => levelOf(o) === 'shipping' || o.shipping !== undefined)
  @IsDefined({ message: 'is required for service level shipping' })
  @Rule('onlyForShipping', (_v, o: ScriptDropOrderInputDto) => levelOf(o) === 'shipping', 'is only allowed for service level shipping')
  @nested(() => ScriptDropShippingDto)
  shipping?: ScriptDropShippingDto;

  @required()
  @nestedList(() => ScriptDropPrescriptionDto)
  @ArrayMinSize(1, { message: 'must list at least one prescription' })
  prescriptions: ScriptDropPrescriptionDto[];

  @IsOptional()
  @nestedList(() => ScriptDropOtherItemDto)
  otherItems?: ScriptDropOtherItemDto[];
}

// --- ScriptDropFulfilment ------------------------------------------------------------------------

export interface CreateScriptDropDeliveryInput {
  /**
   * Unique per delivery: a second call with the same key returns the stored order and sends
   * nothing. Sent to ScriptDrop as `external_reference_number` (at most 255 characters).
   */
  idempotencyKey: string;
  /** The host's own reference for the delivery. */
  hostReference?: string;
  /**
   * The order. Its `externalReferenceNumber` may be left out (the idempotency key is sent) or equal
   * the idempotency key; a different value is refused.
   */
  order: ScriptDropOrderInput;
}

@DocumentedByRules()
export class CreateScriptDropDeliveryDto implements CreateScriptDropDeliveryInput {
  @text(L.externalReferenceNumber)
  idempotencyKey: string;

  @optionalText(255)
  hostReference?: string;

  @required()
  @nested(() => ScriptDropOrderInputDto)
  @withContext((d: CreateScriptDropDeliveryInput) => ({ idempotencyKey: typeof d.idempotencyKey === 'string' ? d.idempotencyKey : undefined }))
  order: ScriptDropOrderInputDto;
}

/** Longest ScriptDrop order id or Rx number accepted in a path. */
export const SCRIPTDROP_ID_MAX_LENGTH = 255;

/** GET /api/v1/pharmacies/:id takes the pharmacy's NPI (10 digits) or NCPDP (7 digits). */
export class ScriptDropPharmacyIdDto {
  @required()
  @Matches(/^(\d{10}|\d{7})$/, { message: 'must be an NPI (10 digits) or an NCPDP (7 digits)' })
  pharmacyId: string;
}

/** The parameters of Get Delivery Information (the pharmacy id is checked by ScriptDropPharmacyIdDto). */
@DocumentedByRules()
export class ScriptDropDeliveryInformationDto implements ScriptDropDeliveryInformationInput {
  @required()
  @nested(() => ScriptDropAddressDto)
  deliveryAddress: ScriptDropAddressDto;

  @IsOptional()
  @oneOf(SCRIPTDROP_SIGNATURES)
  pod?: (typeof SCRIPTDROP_SIGNATURES)[number];

  @IsOptional()
  @oneOf(SCRIPTDROP_COVERAGE_TYPES)
  package?: (typeof SCRIPTDROP_COVERAGE_TYPES)[number];

  @IsOptional()
  @boolean()
  saturdayDelivery?: boolean;
}

export class ScriptDropOrderIdsDto {
  @IsArray({ message: 'must be an array' })
  @ArrayMinSize(1, { message: 'must list at least one id' })
  @IsString({ each: true, message: 'must be strings' })
  @IsNotEmpty({ each: true, message: 'must not be empty' })
  @MaxLength(SCRIPTDROP_ID_MAX_LENGTH, { each: true, message: `must be at most ${SCRIPTDROP_ID_MAX_LENGTH} characters each` })
  ids: string[];
}
