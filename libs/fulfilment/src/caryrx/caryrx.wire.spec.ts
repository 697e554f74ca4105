import 'reflect-metadata';
import { describe, it, expect } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  CaryRxOrderEventBody,
  CaryRxPrescriptionEventBody,
  entityRefFromWire,
  locationToWire,
  orderEventFromWire,
  orderFromWire,
  orderToWire,
  patientFromWire,
  patientToWire,
  prescriptionEventFromWire,
  prescriptionFromWire,
  prescriptionToWire,
  webhookRegistrationToWire,
} from './caryrx.wire.js';
import { CARYRX_DOC_PRESCRIPTION } from '../../../../test/fixtures/caryrx-examples.js';

// The doc's samples, read back per DESIGN.md ("Reading the seeds").
const GET_ORDER_SAMPLE = {
  id: 'mu0cu5dv3f',
  shipping_method: '2day_mailorder',
  packaging_method: 'usps_firstclass',
  order_status: 'pending',
  created_at: '2022-01-26T16:34:09.493Z',
  updatedAt: '2022-01-26T16:34:09.493Z',
  flags: null,
  prescriptions: [
    { entity_type: 'prescription', prescription: 'atorvastatin', is_refill: false, id: 'uccmdxbo8y', created_at: '2022-01-25T18:56:55.873Z', updated_at: '2022-01-25T18:56:55.873Z' },
  ],
  patient: { entity_type: 'patient', id: 'wuyhosgwuc' },
  activationCode: null,
};

const ORDER_EVENT_SAMPLE = {
  id: 'd1abcxox',
  shipping_method: 'sameday_delivery',
  packaging_method: 'usps_firstclass',
  address_to_name: 'string',
  address_to_street1: 'string',
  address_to_street2: 'string',
  address_to_city: 'string',
  address_to_state: 'string',
  address_to_zip: 'string',
  shipment_tracking_url: 'string',
  shipment_tracking_eta: '2020-12-15T19:56:49.685Z',
  sameday_location_x: 'string',
  sameday_location_y: 'string',
  order_status: 'ready_to_fill',
  prescriptions: [{ entity_type: 'order', id: 'd0abcdoa', created_at: '2020-12-15T19:56:49.685Z', updated_at: '2020-12-15T19:56:49.686Z' }],
  patient: { entity_type: 'patient', id: 'd0abcdoa', created_at: '2020-12-15T19:56:49.686Z', updated_at: '2020-12-15T19:56:49.686Z' },
};

describe('CaryRx wire mapping', () => {
  it('maps create requests to the documented spellings', () => {
    expect(webhookRegistrationToWire({ callbackUrl: 'https://x.test/h?token=t' })).toEqual({ callbackUrl: 'https://x.test/h?token=t', authType: 'none' });
    expect(
      patientToWire({ firstName: 'test', lastName: 'patient', dob: '2000-01-01', email: 'test-patient@test.com', phoneNumber: '1000010101' }),
    ).toEqual({ first_name: 'test', last_name: 'patient', dob: '2000-01-01', email: 'test-patient@test.com', phone_number: '1000010101' });
    expect(patientToWire({ firstName: 'a', lastName: 'b', dob: '2000-01-01' })).toEqual({ first_name: 'a', last_name: 'b', dob: '2000-01-01' });
    expect(
      locationToWire('wuyhosgwuc', { locationName: 'home', street1: '123 main st', street2: 'apt 4', city: 'new york', state: 'ny', zip: '27511', latitude: 1, longitude: 1 }),
    ).toEqual({
      patientId: 'wuyhosgwuc',
      locationName: 'home',
      address_to_street1: '123 main st',
      address_to_street2: 'apt 4',
      address_to_city: 'new york',
      address_to_state: 'ny',
      address_to_zip: '27511',
      address_to_latitude: 1,
      address_to_longitude: 1,
    });
    expect(prescriptionToWire({ patientId: 'wuyhosgwuc', medicationName: 'atorvastatin', qtyWritten: 10, refillsWritten: 0, daysSupply: 10 })).toEqual({
      patientId: 'wuyhosgwuc',
      medication_name: 'atorvastatin',
      qty_written: 10,
      refills_written: 0,
      days_supply: 10,
      data: 'null',
    });
    expect(
      orderToWire({
        patientId: 'wuyhosgwuc',
        patientLocationId: '2zgoxnmqjy',
        prescriptionIds: ['uccmdxbo8y'],
        patientDeliveryNote: 'leave at front desk',
        patientPharmacyNote: 'note for info',
      }),
    ).toEqual({
      shipping_method: 'sameday_delivery',
      central_fill: false,
      patient_id: 'wuyhosgwuc',
      patient_location_id: '2zgoxnmqjy',
      prescriptions: [{ id: 'uccmdxbo8y' }],
      patient_delivery_note: 'leave at front desk',
      patient_pharmacy_note: 'note for info',
      order_status: 'pending',
    });
  });

  it('reads get order with `updatedAt` and `activationCode` (camelCase, as the doc prints them)', () => {
    const order = orderFromWire(GET_ORDER_SAMPLE);
    expect(order).toMatchObject({
      id: 'mu0cu5dv3f',
      orderStatus: 'pending',
      shippingMethod: '2day_mailorder',
      packagingMethod: 'usps_firstclass',
      createdAt: new Date('2022-01-26T16:34:09.493Z'),
      updatedAt: new Date('2022-01-26T16:34:09.493Z'),
      activationCode: null,
      address: null,
      patient: { entityType: 'patient', id: 'wuyhosgwuc', createdAt: null, updatedAt: null },
    });
    expect(order.prescriptions).toEqual([
      {
        entityType: 'prescription',
        id: 'uccmdxbo8y',
        prescription: 'atorvastatin',
        isRefill: false,
        createdAt: new Date('2022-01-25T18:56:55.873Z'),
        updatedAt: new Date('2022-01-25T18:56:55.873Z'),
      },
    ]);
  });

  it('reads `updated_at` and `activation_code` too (the other spelling)', () => {
    const { updatedAt: _, activationCode: __, ...rest } = GET_ORDER_SAMPLE;
    const order = orderFromWire({ ...rest, updated_at: '2022-01-27T00:00:00.000Z', activation_code: 'abc' });
    expect(order.updatedAt).toEqual(new Date('2022-01-27T00:00:00.000Z'));
    expect(order.activationCode).toBe('abc');
    // `updatedAt` wins when both are present (it is get order's own spelling).
    expect(orderFromWire({ ...GET_ORDER_SAMPLE, updated_at: '1999-01-01T00:00:00.000Z' }).updatedAt).toEqual(new Date('2022-01-26T16:34:09.493Z'));
  });

  it('reads nested entity refs and tolerates bad timestamps without inventing dates', () => {
    expect(entityRefFromWire({ entity_type: 'patientlocation', id: '2zgoxnmqjy', created_at: '2025-01-25T19:19:15.360Z', updated_at: 'not a date' })).toEqual({
      entityType: 'patientlocation',
      id: '2zgoxnmqjy',
      createdAt: new Date('2025-01-25T19:19:15.360Z'),
      updatedAt: null,
    });
    expect(entityRefFromWire(null)).toBeNull();
    expect(entityRefFromWire({ entity_type: 'x' } as never)).toBeNull();
  });

  it('reads the create-order answer with its address and the patient sample', () => {
    const order = orderFromWire({
      id: 'wbbubgc6s5',
      shipping_method: '2day_mailorder',
      delivery_schedule: 'mailorder',
      patient_location_id: '2zgoxnmqjy',
      address_to_street1: '123 main st',
      address_to_street2: 'apt 4',
      address_to_city: 'new york',
      address_to_state: 'ny',
      address_to_zip: '27511',
      order_status: 'pending',
      prescriptions: [{ entity_type: 'prescription', id: 'uccmdxbo8y', created_at: '2025-01-25T18:56:55.873Z', updated_at: '2025-01-25T18:56:55.873Z' }],
      patient: { entity_type: 'patient', id: 'wuyhosgwuc', created_at: '2025-01-25T18:01:02.704Z', updated_at: '2025-01-25T18:01:02.704Z' },
    });
    expect(order.deliverySchedule).toBe('mailorder');
    expect(order.patientLocationId).toBe('2zgoxnmqjy');
    expect(order.address).toEqual({ name: null, street1: '123 main st', street2: 'apt 4', city: 'new york', state: 'ny', zip: '27511' });
    expect(order.prescriptions[0]).toMatchObject({ id: 'uccmdxbo8y', prescription: null, isRefill: null });

    const patient = patientFromWire({
      first_name: 'test',
      last_name: 'patient',
      dob: '2000-01-01',
      state: null,
      cary_patient: false,
      id: 'wuyhosgwuc',
      pause_interventions: false,
      tags: [],
      prescriptions: [{ entity_type: 'prescription', id: 'x1yx8vbbcf', created_at: '2021-01-25T18:21:01.942Z', updated_at: '2021-01-25T18:21:01.942Z' }],
      orders: [{ entity_type: 'order', id: 'l1arhug55v', created_at: '2021-01-25T19:22:33.849Z', updated_at: '2021-01-25T19:25:00.840Z' }],
      contact_info: [],
    });
    expect(patient).toMatchObject({ id: 'wuyhosgwuc', firstName: 'test', caryPatient: false, pauseInterventions: false, contactInfo: [] });
    expect(patient.orders[0].updatedAt).toEqual(new Date('2021-01-25T19:25:00.840Z'));
  });

  it('reads the get-prescription sample', () => {
    const rx = prescriptionFromWire({
      ...CARYRX_DOC_PRESCRIPTION,
      prescriber: { ...CARYRX_DOC_PRESCRIPTION.prescriber, prescriber_npi: null },
    });
    expect(rx).toMatchObject({ id: 'uccmdxbo8y', status: 'verified', medicationName: 'atorvastatin', rxNumber: 1231234, autoRefill: false, updatedAt: null });
    expect(rx.patient?.id).toBe('wuyhosgwuc');
    expect(rx.prescriber).toMatchObject({ name: 'peter brown', clinic: 'test hospital', zip: '20001', npi: null, dea: null });
  });

  it('minimises webhook events to ids, statuses, timestamps and delivery details (both timestamp spellings)', () => {
    const event = orderEventFromWire(plainToInstance(CaryRxOrderEventBody, ORDER_EVENT_SAMPLE));
    expect(event).toEqual({
      id: 'd1abcxox',
      orderStatus: 'ready_to_fill',
      updatedAt: null,
      trackingUrl: 'string',
      eta: new Date('2020-12-15T19:56:49.685Z'),
      shippingMethod: 'sameday_delivery',
      packagingMethod: 'usps_firstclass',
      samedayLocationX: 'string',
      samedayLocationY: 'string',
      patientId: 'd0abcdoa',
      prescriptionIds: ['d0abcdoa'],
    });
    expect(JSON.stringify(event)).not.toContain('address');
    const snake = plainToInstance(CaryRxOrderEventBody, { id: 'o1', order_status: 'shipped', updated_at: '2024-01-01T00:00:00.000Z' });
    const camel = plainToInstance(CaryRxOrderEventBody, { id: 'o1', order_status: 'shipped', updatedAt: '2024-01-01T00:00:00.000Z' });
    expect(orderEventFromWire(snake).updatedAt).toEqual(new Date('2024-01-01T00:00:00.000Z'));
    expect(orderEventFromWire(camel).updatedAt).toEqual(new Date('2024-01-01T00:00:00.000Z'));

    const rx = prescriptionEventFromWire(plainToInstance(CaryRxPrescriptionEventBody, { id: 'r1', status: 'pending', updatedAt: '2024-01-02T00:00:00.000Z', patient: { id: 'p1' } }));
    expect(rx).toEqual({ id: 'r1', status: 'pending', patientId: 'p1', updatedAt: new Date('2024-01-02T00:00:00.000Z') });
  });

  it('accepts the doc samples as webhook bodies and names bad fields', () => {
    expect(validateSync(plainToInstance(CaryRxOrderEventBody, ORDER_EVENT_SAMPLE))).toHaveLength(0);
    const errors = validateSync(plainToInstance(CaryRxOrderEventBody, { order_status: 5, updated_at: 'yesterday', patient: { id: 7 } }));
    expect(errors.map((e) => e.property).sort()).toEqual(['id', 'order_status', 'patient', 'updated_at']);
  });
});
