import { Body, Controller, Post } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiBadRequestResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsArray, IsIn, IsObject, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import {
  FulfilmentService,
  type CaryRxLocationInput,
  type CaryRxPatientInput,
  type CaryRxPrescriptionInput,
  type ScriptDropOrderInput,
} from 'nestjs-fulfilment';
import { OrderView, orderView } from './orders.controller.js';

/**
 * The host's own checkout API. Only the envelope is validated here: the module validates the
 * patient, location and delivery against the providers' documented rules and answers 400 naming
 * every bad field (see FulfilmentErrorsFilter).
 */
export class CaryRxCheckoutDto {
  @ApiProperty({ description: "the host's checkout id; also the idempotency key of the order" })
  @IsString()
  @Length(1, 200)
  reference: string;

  @ApiProperty({ description: "the host's patient id" })
  @IsString()
  @Length(1, 200)
  patientReference: string;

  @ApiProperty({ description: 'firstName, lastName, dob (YYYY-MM-DD), email?, phoneNumber?' })
  @IsObject()
  patient: CaryRxPatientInput;

  @ApiProperty({ description: 'locationName?, street1, street2?, city, state, zip, latitude?, longitude?' })
  @IsObject()
  location: CaryRxLocationInput;

  @ApiPropertyOptional({ type: [String], description: 'CaryRx prescription ids already at the pharmacy' })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  prescriptionIds?: string[];

  @ApiPropertyOptional({ description: 'development only: simulate a prescription (medicationName, qtyWritten, refillsWritten, daysSupply)' })
  @IsOptional()
  @IsObject()
  simulatePrescription?: Omit<CaryRxPrescriptionInput, 'patientId'>;

  @ApiPropertyOptional({ example: 'sameday_delivery' })
  @IsOptional()
  @IsString()
  shippingMethod?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(500)
  deliveryNote?: string;
}

export class ScriptDropCheckoutDto {
  @ApiProperty({ description: "the host's checkout id; also the idempotency key (sent as external_reference_number)" })
  @IsString()
  @Length(1, 200)
  reference: string;

  @ApiProperty({ description: 'the delivery, camelCase: serviceLevel, pharmacy, recipient, patient, prescriptions, shipping, …' })
  @IsObject()
  delivery: ScriptDropOrderInput;
}

export class CheckoutDto {
  @ApiProperty({ enum: ['caryrx', 'scriptdrop'] })
  @IsIn(['caryrx', 'scriptdrop'])
  provider: 'caryrx' | 'scriptdrop';

  @ApiPropertyOptional({ type: CaryRxCheckoutDto })
  @IsOptional()
  @IsObject()
  caryrx?: CaryRxCheckoutDto;

  @ApiPropertyOptional({ type: ScriptDropCheckoutDto })
  @IsOptional()
  @IsObject()
  scriptdrop?: ScriptDropCheckoutDto;
}

@ApiTags('checkout')
@Controller('checkout')
export class CheckoutController {
  constructor(private readonly fulfilment: FulfilmentService) {}

  @Post('caryrx')
  @ApiBody({ type: CaryRxCheckoutDto })
  @ApiCreatedResponse({ type: OrderView, description: 'the order, stored and sent to CaryRx' })
  @ApiBadRequestResponse({ description: 'a field is invalid; `fields` names each one' })
  async caryrx(@Body() body: CaryRxCheckoutDto): Promise<OrderView> {
    const { caryrx } = this.fulfilment;
    await caryrx.ensurePatient(body.patientReference, body.patient);
    const location = await caryrx.addLocation(body.patientReference, body.location);
    const prescriptionIds = [...(body.prescriptionIds ?? [])];
    if (body.simulatePrescription) {
      const link = await caryrx.ensurePatient(body.patientReference, body.patient);
      const rx = await caryrx.createPrescription({ ...body.simulatePrescription, patientId: link.providerPatientId! });
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
  @ApiBadRequestResponse({ description: 'a field is invalid; `fields` names each one' })
  async scriptdrop(@Body() body: ScriptDropCheckoutDto): Promise<OrderView> {
    const { order } = await this.fulfilment.scriptdrop.createDelivery({
      idempotencyKey: `checkout:${body.reference}`,
      hostReference: body.reference,
      order: body.delivery,
    });
    return orderView(order, await this.fulfilment.getOrderHistory(order.id));
  }
}
