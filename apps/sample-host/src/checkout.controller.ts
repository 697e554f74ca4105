import { Body, Controller, Post } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiBadRequestResponse, ApiProperty, ApiPropertyOptional, ApiTags, OmitType } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsDefined, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import {
  CARYRX_NOTE_MAX_LENGTH,
  CARYRX_SHIPPING_METHODS,
  CaryRxLocationInputDto,
  CaryRxPatientInputDto,
  CaryRxPrescriptionInputDto,
  FulfilmentService,
  FulfilmentValidationError,
  ScriptDropOrderInputDto,
} from 'nestjs-fulfilment';
import { OrderView, orderView } from './orders.controller.js';

/**
 * The host's own checkout API. The parts handed to the module (patient, location, delivery) are
 * the module's own DTOs: the global pipe checks the whole body against the providers' documented
 * rules at once, so every bad field is named, by its path in this body, before anything is sent,
 * and the OpenAPI document shows their full schemas. A rule that needs the module's context (a
 * ScriptDrop `externalReferenceNumber` must equal the idempotency key) is checked by the module
 * call, whose paths `rooted` names the same way.
 */
const text = (max: number) => [IsString({ message: 'must be a string' }), IsNotEmpty({ message: 'is required' }), MaxLength(max, { message: `must be at most ${max} characters` })];
const apply = (...decorators: PropertyDecorator[]): PropertyDecorator => (target, key) => decorators.forEach((d) => d(target, key));
/** A required part of the body, checked by the module's DTO. */
const part = (type: () => Function) => apply(IsDefined({ message: 'is required' }), ValidateNested(), Type(type));

/** A simulated prescription: the module's prescription rules, without the patient (the checkout's own). */
export class SimulatedPrescriptionDto extends OmitType(CaryRxPrescriptionInputDto, ['patientId'] as const) {}

export class CaryRxCheckoutDto {
  @ApiProperty({ description: "the host's checkout id; also the idempotency key of the order", maxLength: 200 })
  @apply(...text(200))
  reference: string;

  @ApiProperty({ description: "the host's patient id", maxLength: 200 })
  @apply(...text(200))
  patientReference: string;

  @ApiProperty()
  @part(() => CaryRxPatientInputDto)
  patient: CaryRxPatientInputDto;

  @ApiProperty()
  @part(() => CaryRxLocationInputDto)
  location: CaryRxLocationInputDto;

  @ApiPropertyOptional({ type: [String], description: 'CaryRx prescription ids already at the pharmacy' })
  @IsOptional()
  @IsArray({ message: 'must be an array' })
  @IsString({ each: true, message: 'must be strings' })
  prescriptionIds?: string[];

  @ApiPropertyOptional({ description: 'development only: simulate a prescription for the order' })
  @IsOptional()
  @ValidateNested()
  @Type(() => SimulatedPrescriptionDto)
  simulatePrescription?: SimulatedPrescriptionDto;

  @ApiPropertyOptional({ enum: CARYRX_SHIPPING_METHODS, example: 'sameday_delivery' })
  @IsOptional()
  @IsIn(CARYRX_SHIPPING_METHODS, { message: `must be one of ${CARYRX_SHIPPING_METHODS.join(', ')}` })
  shippingMethod?: string;

  @ApiPropertyOptional({ maxLength: CARYRX_NOTE_MAX_LENGTH })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @MaxLength(CARYRX_NOTE_MAX_LENGTH, { message: `must be at most ${CARYRX_NOTE_MAX_LENGTH} characters` })
  deliveryNote?: string;
}

export class ScriptDropCheckoutDto {
  @ApiProperty({ description: "the host's checkout id; also the idempotency key (sent as external_reference_number)", maxLength: 200 })
  @apply(...text(200))
  reference: string;

  @ApiProperty({ description: 'the delivery, camelCase: serviceLevel, pharmacy, recipient, patient, prescriptions, shipping, …' })
  @part(() => ScriptDropOrderInputDto)
  delivery: ScriptDropOrderInputDto;
}

/** Runs a module call on a part of the body; its validation errors are named from the body's root. */
async function forPart<T>(call: Promise<T>, at: string, from?: string): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw err instanceof FulfilmentValidationError ? err.rooted(at, from) : err;
  }
}

const BAD_REQUEST = 'a field is invalid: `fields` names each one once, by its path in this body (e.g. `patient.dob`), with the first rule it broke';

@ApiTags('checkout')
@Controller('checkout')
export class CheckoutController {
  constructor(private readonly fulfilment: FulfilmentService) {}

  @Post('caryrx')
  @ApiBody({ type: CaryRxCheckoutDto })
  @ApiCreatedResponse({ type: OrderView, description: 'the order, stored and sent to CaryRx' })
  @ApiBadRequestResponse({ description: BAD_REQUEST })
  async caryrx(@Body() body: CaryRxCheckoutDto): Promise<OrderView> {
    const { caryrx } = this.fulfilment;
    const link = await forPart(caryrx.ensurePatient(body.patientReference, body.patient), 'patient');
    const location = await forPart(caryrx.addLocation(body.patientReference, body.location), 'location');
    const prescriptionIds = [...(body.prescriptionIds ?? [])];
    if (body.simulatePrescription) {
      const rx = await forPart(caryrx.createPrescription({ ...body.simulatePrescription, patientId: link.providerPatientId! }), 'simulatePrescription');
      prescriptionIds.push(rx.providerPrescriptionId);
    }
    const { order } = await caryrx.placeOrder({
      idempotencyKey: `checkout:${body.reference}`,
      hostReference: body.reference,
      patientHostReference: body.patientReference,
      locationId: location.id,
      prescriptionIds,
      shippingMethod: body.shippingMethod,
      patientDeliveryNote: body.deliveryNote,
    });
    return orderView(order, await this.fulfilment.getOrderHistory(order.id));
  }

  @Post('scriptdrop')
  @ApiBody({ type: ScriptDropCheckoutDto })
  @ApiCreatedResponse({ type: OrderView, description: 'the delivery, stored and sent to ScriptDrop' })
  @ApiBadRequestResponse({ description: BAD_REQUEST })
  async scriptdrop(@Body() body: ScriptDropCheckoutDto): Promise<OrderView> {
    const { order } = await forPart(
      this.fulfilment.scriptdrop.createDelivery({ idempotencyKey: `checkout:${body.reference}`, hostReference: body.reference, order: body.delivery }),
      'delivery',
      'order',
    );
    return orderView(order, await this.fulfilment.getOrderHistory(order.id));
  }
}
