import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { FulfilmentService, type FulfilmentOrderHistoryEntry, type FulfilmentOrderView } from 'nestjs-fulfilment';

// Every field of every nested object is declared: the global pipe forbids anything else.
export class PatientDto {
  @IsString() @Length(1, 100) id: string;
  @IsString() @Length(1, 30) firstName: string;
  @IsString() @Length(1, 40) lastName: string;
  @Matches(/^\d{4}-\d{2}-\d{2}$/) dob: string;
  @IsOptional() @Matches(/^\d{10}$/) phone?: string;
}

export class AddressDto {
  @IsString() @Length(1, 100) street1: string;
  @IsString() @Length(1, 60) city: string;
  @Matches(/^[A-Z]{2}$/) state: string;
  @Matches(/^\d{5}$/) zip: string;
}

export class MedicationDto {
  @IsString() @Length(1, 100) name: string;
  @IsInt() @Min(1) @Max(1000) quantity: number;
  @IsInt() @Min(1) @Max(365) daysSupply: number;
}

export class RxDto {
  @IsString() @Length(1, 40) number: string;
  @Matches(/^\d{11}$/) ndc: string;
  @IsInt() @Min(1) quantity: number;
  @IsInt() @Min(1) daysSupply: number;
}

export class CaryRxCheckoutDto {
  @IsString() @Length(1, 100) reference: string;
  @ValidateNested() @Type(() => PatientDto) patient: PatientDto;
  @ValidateNested() @Type(() => AddressDto) address: AddressDto;
  @ValidateNested() @Type(() => MedicationDto) medication: MedicationDto;
  @IsOptional() @IsIn(['sameday_delivery', '2day_mailorder']) shippingMethod?: string;
}

export class ScriptDropCheckoutDto {
  @IsString() @Length(1, 100) reference: string;
  @ValidateNested() @Type(() => PatientDto) patient: PatientDto;
  @ValidateNested() @Type(() => AddressDto) address: AddressDto;
  @ValidateNested() @Type(() => RxDto) rx: RxDto;
}

// The module's errors are answered by FulfilmentExceptionFilter (registered in setup.ts).
const summary = (order: FulfilmentOrderView) => ({ orderId: order.id, status: order.status });

@Controller('health')
export class HealthController {
  @Get()
  get() {
    return { status: 'ok' };
  }
}

@Controller('checkouts')
export class CheckoutController {
  constructor(private readonly fulfilment: FulfilmentService) {}

  @Post('caryrx')
  async caryrx(@Body() body: CaryRxCheckoutDto) {
    const { caryrx } = this.fulfilment;
    const { patient, address, medication } = body;
    const link = await caryrx.ensurePatient(patient.id, { firstName: patient.firstName, lastName: patient.lastName, dob: patient.dob, phoneNumber: patient.phone });
    const location = await caryrx.addLocation(patient.id, { street1: address.street1, city: address.city, state: address.state, zip: address.zip });
    const rx = await caryrx.createPrescription({
      patientId: link.providerPatientId!,
      medicationName: medication.name,
      qtyWritten: medication.quantity,
      refillsWritten: 0,
      daysSupply: medication.daysSupply,
    });
    const { order } = await caryrx.placeOrder({
      idempotencyKey: `clinic/${body.reference}`,
      hostReference: body.reference,
      patientHostReference: patient.id,
      locationId: location.id,
      prescriptionIds: [rx.providerPrescriptionId],
      shippingMethod: body.shippingMethod ?? 'sameday_delivery',
    });
    return summary(order);
  }

  @Post('scriptdrop')
  async scriptdrop(@Body() body: ScriptDropCheckoutDto) {
    const { patient, address, rx } = body;
    const { order } = await this.fulfilment.scriptdrop.createDelivery({
      idempotencyKey: `clinic/${body.reference}`,
      hostReference: body.reference,
      order: {
        deliveryFee: 6,
        rxAmountDue: 0,
        pharmacy: { npi: '1234567890', ncpdp: '1234567' },
        recipient: {
          description: `${patient.firstName} ${patient.lastName}`,
          mobilePhoneNumber: patient.phone,
          isPatient: true,
          address: { street: address.street1, city: address.city, state: address.state, zipcode: address.zip },
        },
        patient: { firstName: patient.firstName, lastName: patient.lastName, gender: 'unspecified', dateOfBirth: patient.dob, mobilePhoneNumber: patient.phone },
        prescriptions: [
          {
            number: rx.number,
            ndc: rx.ndc,
            refrigeration: 'none',
            daysSupply: rx.daysSupply,
            fillQuantity: rx.quantity,
            fillNumber: 1,
            patientPay: 0,
            prescriber: {
              firstName: 'Clinic',
              lastName: 'Prescriber',
              npi: '1234567890',
              address: { street: '1 Clinic Way', city: 'Columbus', state: 'OH', zipcode: '43210' },
            },
            payers: [{ bin: '1112', pcn: '2222', rxGroup: 'CLINIC', coverageType: 'primary', governmentPlanIndicator: false }],
          },
        ],
      },
    });
    return summary(order);
  }
}

@Controller('orders')
export class OrdersController {
  constructor(private readonly fulfilment: FulfilmentService) {}

  @Get(':id')
  async get(@Param('id', new ParseUUIDPipe()) id: string) {
    const order = await this.fulfilment.getOrder(id);
    const history: FulfilmentOrderHistoryEntry[] = await this.fulfilment.getOrderHistory(id);
    return {
      id: order.id,
      provider: order.provider,
      status: order.status,
      providerStatus: order.providerStatus,
      history: history.map((h) => ({ from: h.fromStatus, to: h.toStatus, providerStatus: h.toProviderStatus, source: h.source })),
    };
  }

  @Delete(':id')
  async cancel(@Param('id', new ParseUUIDPipe()) id: string) {
    return summary(await this.fulfilment.cancelOrder(id));
  }
}
