import { Body, Controller, Delete, Get, Param, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Min, ValidateNested } from 'class-validator';
import { FulfilmentService } from 'nestjs-fulfilment';

class PatientDto {
  @IsString() @Length(1, 100) id: string;
  @IsString() @Length(1, 60) firstName: string;
  @IsString() @Length(1, 60) lastName: string;
  @Matches(/^\d{4}-\d{2}-\d{2}$/) dob: string;
  @IsOptional() @Matches(/^\d{10}$/) phone?: string;
}

class AddressDto {
  @IsString() street1: string;
  @IsString() city: string;
  @Matches(/^[A-Z]{2}$/) state: string;
  @Matches(/^\d{5}$/) zip: string;
}

class MedicationDto {
  @IsString() name: string;
  @IsInt() @Min(1) quantity: number;
  @IsInt() @Min(1) daysSupply: number;
}

class RxDto {
  @IsString() number: string;
  @Matches(/^\d{11}$/) ndc: string;
  @IsInt() @Min(1) quantity: number;
  @IsInt() @Min(1) daysSupply: number;
}

export class PharmacyCheckoutDto {
  @IsString() @Length(1, 100) reference: string;
  @ValidateNested() @Type(() => PatientDto) patient: PatientDto;
  @ValidateNested() @Type(() => AddressDto) address: AddressDto;
  @ValidateNested() @Type(() => MedicationDto) medication: MedicationDto;
}

export class CourierCheckoutDto {
  @IsString() @Length(1, 100) reference: string;
  @ValidateNested() @Type(() => PatientDto) patient: PatientDto;
  @ValidateNested() @Type(() => AddressDto) address: AddressDto;
  @ValidateNested() @Type(() => RxDto) rx: RxDto;
}

/** The portal's checkout API over the fulfilment module; its errors are answered by FulfilmentExceptionFilter. */
@Controller()
export class PharmacyController {
  constructor(private readonly fulfilment: FulfilmentService) {}

  @Post('checkouts/caryrx')
  async pharmacy(@Body() dto: PharmacyCheckoutDto) {
    const { caryrx } = this.fulfilment;
    const { patient, address, medication } = dto;
    const link = await caryrx.ensurePatient(patient.id, {
      firstName: patient.firstName,
      lastName: patient.lastName,
      dob: patient.dob,
      phoneNumber: patient.phone,
    });
    const location = await caryrx.addLocation(patient.id, { street1: address.street1, city: address.city, state: address.state, zip: address.zip });
    const rx = await caryrx.createPrescription({
      patientId: link.providerPatientId!,
      medicationName: medication.name,
      qtyWritten: medication.quantity,
      refillsWritten: 0,
      daysSupply: medication.daysSupply,
    });
    const { order } = await caryrx.placeOrder({
      idempotencyKey: `portal:${dto.reference}`,
      hostReference: dto.reference,
      patientHostReference: patient.id,
      locationId: location.id,
      prescriptionIds: [rx.providerPrescriptionId],
      shippingMethod: 'sameday_delivery',
    });
    return { orderId: order.id, status: order.status };
  }

  @Post('checkouts/scriptdrop')
  async courier(@Body() dto: CourierCheckoutDto) {
    const { patient, address, rx } = dto;
    const { order } = await this.fulfilment.scriptdrop.createDelivery({
      idempotencyKey: `portal:${dto.reference}`,
      hostReference: dto.reference,
      order: {
        deliveryFee: 5,
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
              firstName: 'Portal',
              lastName: 'Prescriber',
              npi: '1234567890',
              address: { street: '1 Clinic Way', city: 'Columbus', state: 'OH', zipcode: '43210' },
            },
            payers: [{ bin: '1112', pcn: '2222', rxGroup: 'PORTAL', coverageType: 'primary', governmentPlanIndicator: false }],
          },
        ],
      },
    });
    return { orderId: order.id, status: order.status };
  }

  @Get('orders/:id')
  async order(@Param('id') id: string) {
    const order = await this.fulfilment.getOrder(id);
    const history = await this.fulfilment.getOrderHistory(id);
    return {
      id: order.id,
      provider: order.provider,
      status: order.status,
      providerStatus: order.providerStatus,
      history: history.map((h) => ({ from: h.fromStatus, to: h.toStatus, providerStatus: h.toProviderStatus, source: h.source })),
    };
  }

  @Delete('orders/:id')
  async cancel(@Param('id') id: string) {
    const order = await this.fulfilment.cancelOrder(id);
    return { orderId: order.id, status: order.status };
  }
}
