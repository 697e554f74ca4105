import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Min, ValidateNested } from 'class-validator';
import { FulfilmentService, type ScriptDropOrderInput } from 'nestjs-fulfilment';

class Patient {
  @IsString() @Length(1, 100) id: string;
  @IsString() @Length(1, 30) firstName: string;
  @IsString() @Length(1, 40) lastName: string;
  @Matches(/^\d{4}-\d{2}-\d{2}$/) dob: string;
  @IsOptional() @Matches(/^\d{10}$/) phone?: string;
}

class Address {
  @IsString() street1: string;
  @IsString() city: string;
  @Matches(/^[A-Z]{2}$/) state: string;
  @Matches(/^\d{5}$/) zip: string;
}

class Medication {
  @IsString() name: string;
  @IsInt() @Min(1) quantity: number;
  @IsInt() @Min(1) daysSupply: number;
}

class Rx {
  @IsString() number: string;
  @Matches(/^\d{11}$/) ndc: string;
  @IsInt() @Min(1) quantity: number;
  @IsInt() @Min(1) daysSupply: number;
}

class PharmacyCheckout {
  @IsString() @Length(1, 100) reference: string;
  @ValidateNested() @Type(() => Patient) patient: Patient;
  @ValidateNested() @Type(() => Address) address: Address;
  @ValidateNested() @Type(() => Medication) medication: Medication;
}

class CourierCheckout {
  @IsString() @Length(1, 100) reference: string;
  @ValidateNested() @Type(() => Patient) patient: Patient;
  @ValidateNested() @Type(() => Address) address: Address;
  @ValidateNested() @Type(() => Rx) rx: Rx;
}

const PHARMACY = { npi: '1234567890', ncpdp: '1234567' };
const PRESCRIBER = {
  firstName: 'Gateway',
  lastName: 'Prescriber',
  npi: '1234567890',
  address: { street: '1 Clinic Way', city: 'Columbus', state: 'OH', zipcode: '43210' },
};

function courierOrder({ patient, address, rx }: CourierCheckout): ScriptDropOrderInput {
  return {
    deliveryFee: 4.5,
    rxAmountDue: 0,
    pharmacy: PHARMACY,
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
        prescriber: PRESCRIBER,
        payers: [{ bin: '1112', pcn: '2222', rxGroup: 'GATEWAY', coverageType: 'primary', governmentPlanIndicator: false }],
      },
    ],
  };
}

@Controller()
export class DispatchController {
  constructor(private readonly fulfilment: FulfilmentService) {}

  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Post('checkouts/caryrx')
  async pharmacy(@Body() body: PharmacyCheckout) {
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
      idempotencyKey: `gateway-${body.reference}`,
      hostReference: body.reference,
      patientHostReference: patient.id,
      locationId: location.id,
      prescriptionIds: [rx.providerPrescriptionId],
      shippingMethod: 'sameday_delivery',
    });
    return { orderId: order.id, status: order.status };
  }

  @Post('checkouts/scriptdrop')
  async courier(@Body() body: CourierCheckout) {
    const { order } = await this.fulfilment.scriptdrop.createDelivery({
      idempotencyKey: `gateway-${body.reference}`,
      hostReference: body.reference,
      order: courierOrder(body),
    });
    return { orderId: order.id, status: order.status };
  }

  @Get('orders/:id')
  async order(@Param('id', ParseUUIDPipe) id: string) {
    const [order, history] = await Promise.all([this.fulfilment.getOrder(id), this.fulfilment.getOrderHistory(id)]);
    return {
      id: order.id,
      provider: order.provider,
      status: order.status,
      providerStatus: order.providerStatus,
      history: history.map((h) => ({ from: h.fromStatus, to: h.toStatus, providerStatus: h.toProviderStatus, source: h.source })),
    };
  }

  @Delete('orders/:id')
  async cancel(@Param('id', ParseUUIDPipe) id: string) {
    const order = await this.fulfilment.cancelOrder(id);
    return { orderId: order.id, status: order.status };
  }
}
