/**
 * Validation of what hosts pass to CaryRxService and CaryRxFulfilment, checked before anything is
 * sent (validateInput lists every bad field). Messages name the rule, never the value. The public
 * DTOs describe themselves to @nestjs/swagger from these rules (DocumentedByRules), so a host can
 * put them in its own request DTOs.
 */
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { DocumentedByRules } from '../openapi/documented-by-rules.js';
import { IsPastCalendarDate } from '../validation.js';
import { CARYRX_SHIPPING_METHODS } from './caryrx.wire.js';
import type {
  CaryRxLocationInput,
  CaryRxOrderInput,
  CaryRxPatientInput,
  CaryRxPrescriptionInput,
  CaryRxWebhookRegistrationInput,
} from './caryrx.types.js';

export const CARYRX_NOTE_MAX_LENGTH = 500;
const NAME_MAX = 100;
/** Longest id accepted for a CaryRx entity (the documented ids have 10 characters). */
export const CARYRX_ID_MAX_LENGTH = 64;

const mustBeString = { message: 'must be a string' };
const required = { message: 'is required' };
const idRule = () => [IsString(mustBeString), IsNotEmpty(required), MaxLength(CARYRX_ID_MAX_LENGTH, { message: `must be at most ${CARYRX_ID_MAX_LENGTH} characters` })];
const apply = (...decorators: PropertyDecorator[]): PropertyDecorator => (target, key) => decorators.forEach((d) => d(target, key));

@DocumentedByRules()
export class CaryRxPatientInputDto implements CaryRxPatientInput {
  @IsString(mustBeString)
  @IsNotEmpty(required)
  @MaxLength(NAME_MAX, { message: `must be at most ${NAME_MAX} characters` })
  firstName: string;

  @IsString(mustBeString)
  @IsNotEmpty(required)
  @MaxLength(NAME_MAX, { message: `must be at most ${NAME_MAX} characters` })
  lastName: string;

  @IsPastCalendarDate()
  dob: string;

  @IsOptional()
  @IsEmail({}, { message: 'must be an email address' })
  @MaxLength(254, { message: 'must be at most 254 characters' })
  email?: string;

  @IsOptional()
  @Matches(/^\d{10}$/, { message: 'must be 10 digits' })
  phoneNumber?: string;
}

@DocumentedByRules()
export class CaryRxLocationInputDto implements CaryRxLocationInput {
  @IsOptional()
  @IsString(mustBeString)
  @MaxLength(64, { message: 'must be at most 64 characters' })
  locationName?: string;

  @IsString(mustBeString)
  @IsNotEmpty(required)
  @MaxLength(200, { message: 'must be at most 200 characters' })
  street1: string;

  @IsOptional()
  @IsString(mustBeString)
  @MaxLength(200, { message: 'must be at most 200 characters' })
  street2?: string;

  @IsString(mustBeString)
  @IsNotEmpty(required)
  @MaxLength(100, { message: 'must be at most 100 characters' })
  city: string;

  @Matches(/^[A-Za-z]{2}$/, { message: 'must be a two-letter state code' })
  state: string;

  @Matches(/^\d{5}(-?\d{4})?$/, { message: 'must be 5 or 9 digits' })
  zip: string;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number' })
  @Min(-90, { message: 'must be between -90 and 90' })
  @Max(90, { message: 'must be between -90 and 90' })
  latitude?: number;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'must be a number' })
  @Min(-180, { message: 'must be between -180 and 180' })
  @Max(180, { message: 'must be between -180 and 180' })
  longitude?: number;
}

@DocumentedByRules()
export class CaryRxPrescriptionInputDto implements CaryRxPrescriptionInput {
  @apply(...idRule())
  patientId: string;

  @IsString(mustBeString)
  @IsNotEmpty(required)
  @MaxLength(200, { message: 'must be at most 200 characters' })
  medicationName: string;

  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be at least 1' })
  qtyWritten: number;

  @IsInt({ message: 'must be an integer' })
  @Min(0, { message: 'must be at least 0' })
  refillsWritten: number;

  @IsInt({ message: 'must be an integer' })
  @Min(1, { message: 'must be at least 1' })
  daysSupply: number;

  @IsOptional()
  @IsString(mustBeString)
  @MaxLength(2000, { message: 'must be at most 2000 characters' })
  data?: string;
}

/** Order fields shared by CaryRxService.createOrder and CaryRxFulfilment.placeOrder. */
class CaryRxOrderOptionsDto {
  @IsArray({ message: 'must be an array' })
  @ArrayMinSize(1, { message: 'must list at least one prescription' })
  @ArrayMaxSize(100, { message: 'must list at most 100 prescriptions' })
  @IsString({ each: true, message: 'must be strings' })
  @IsNotEmpty({ each: true, message: 'must not be empty' })
  @MaxLength(CARYRX_ID_MAX_LENGTH, { each: true, message: `must be at most ${CARYRX_ID_MAX_LENGTH} characters each` })
  prescriptionIds: string[];

  @IsOptional()
  @IsIn(CARYRX_SHIPPING_METHODS, { message: `must be one of ${CARYRX_SHIPPING_METHODS.join(', ')}` })
  shippingMethod?: string;

  @IsOptional()
  @IsBoolean({ message: 'must be a boolean' })
  centralFill?: boolean;

  @IsOptional()
  @IsString(mustBeString)
  @MaxLength(CARYRX_NOTE_MAX_LENGTH, { message: `must be at most ${CARYRX_NOTE_MAX_LENGTH} characters` })
  patientDeliveryNote?: string;

  @IsOptional()
  @IsString(mustBeString)
  @MaxLength(CARYRX_NOTE_MAX_LENGTH, { message: `must be at most ${CARYRX_NOTE_MAX_LENGTH} characters` })
  patientPharmacyNote?: string;
}

@DocumentedByRules()
export class CaryRxOrderInputDto extends CaryRxOrderOptionsDto implements CaryRxOrderInput {
  @apply(...idRule())
  patientId: string;

  @apply(...idRule())
  patientLocationId: string;
}

@DocumentedByRules()
export class CaryRxWebhookRegistrationInputDto implements CaryRxWebhookRegistrationInput {
  @Matches(/^https?:\/\/\S+$/, { message: 'must be an absolute http(s) URL' })
  @MaxLength(2048, { message: 'must be at most 2048 characters' })
  callbackUrl: string;
}

// --- CaryRxFulfilment (the flow with local state) ------------------------------------------------

export interface PlaceCaryRxOrderInput {
  /** Unique per order: a second call with the same key returns the stored order and sends nothing. */
  idempotencyKey: string;
  /** The host's own reference for the order. */
  hostReference?: string;
  /** The host's reference of the patient, as given to ensurePatient. */
  patientHostReference: string;
  /** The local PatientLocation id returned by addLocation, or the CaryRx location id. */
  locationId: string;
  /** CaryRx prescription ids. */
  prescriptionIds: string[];
  shippingMethod?: string;
  centralFill?: boolean;
  patientDeliveryNote?: string;
  patientPharmacyNote?: string;
}

@DocumentedByRules()
export class PlaceCaryRxOrderInputDto extends CaryRxOrderOptionsDto implements PlaceCaryRxOrderInput {
  @IsString(mustBeString)
  @IsNotEmpty(required)
  @MaxLength(255, { message: 'must be at most 255 characters' })
  idempotencyKey: string;

  @IsOptional()
  @IsString(mustBeString)
  @MaxLength(255, { message: 'must be at most 255 characters' })
  hostReference?: string;

  @IsString(mustBeString)
  @IsNotEmpty(required)
  @MaxLength(255, { message: 'must be at most 255 characters' })
  patientHostReference: string;

  @apply(...idRule())
  locationId: string;
}

export class HostReferenceDto {
  @IsString(mustBeString)
  @IsNotEmpty(required)
  @MaxLength(255, { message: 'must be at most 255 characters' })
  hostReference: string;
}
