import type { CaryRxLocationInput, CaryRxPatientInput, ScriptDropOrderInput, ScriptDropPrescriptionInput } from 'nestjs-fulfilment';

/** Made-up data for the demo, shaped like the providers' documented examples. */
export const demoPatient: CaryRxPatientInput = {
  firstName: 'Test',
  lastName: 'Patient',
  dob: '2000-01-01',
  email: 'test-patient@example.test',
  phoneNumber: '1000010101',
};

export const demoLocation: CaryRxLocationInput = {
  locationName: 'home',
  street1: '123 Main St',
  street2: 'Apt 4',
  city: 'New York',
  state: 'NY',
  zip: '27511',
  latitude: 40.7,
  longitude: -74,
};

export const demoPrescription = { medicationName: 'atorvastatin', qtyWritten: 10, refillsWritten: 0, daysSupply: 10, data: 'null' };

const prescription = (): ScriptDropPrescriptionInput => ({
  number: '897234',
  ndc: '69618001436',
  refrigeration: 'none',
  daysSupply: 30,
  fillQuantity: 30,
  fillNumber: 1,
  patientPay: 50,
  dateOfService: '2019-02-03',
  prescriber: {
    firstName: 'Prescriber First',
    lastName: 'Prescriber Last',
    npi: '1234567890',
    address: { street: '1231 Street', city: 'Columbus', state: 'OH', zipcode: '43210' },
  },
  payers: [{ bin: '1112', pcn: '2222', rxGroup: '123456', coverageType: 'primary', governmentPlanIndicator: false }],
});

const delivery = () => ({
  pharmacy: { npi: '1234567890', ncpdp: '1234567' },
  recipient: {
    description: 'TEST PATIENT',
    mobilePhoneNumber: '1115550000',
    isPatient: true,
    address: { street: '1230 Street', street2: 'Unit 1', city: 'Columbus', state: 'OH', zipcode: '43210' },
  },
  patient: {
    firstName: 'TEST',
    lastName: 'PATIENT',
    gender: 'unspecified' as const,
    dateOfBirth: '2000-02-01',
    mobilePhoneNumber: '3335550000',
  },
  prescriptions: [prescription()],
});

export const demoDeliveries: Record<'sameday' | 'ondemand' | 'shipping', () => ScriptDropOrderInput> = {
  sameday: () => ({ deliveryFee: 5, rxAmountDue: 2, deliveryNotes: 'Deliver at front desk', ...delivery() }),
  ondemand: () => ({
    serviceLevel: 'ondemand',
    readyAt: new Date(Date.now() + 3_600_000).toISOString(),
    deliveryFee: 5,
    rxAmountDue: 2,
    ...delivery(),
  }),
  shipping: () => ({
    serviceLevel: 'shipping',
    shipping: {
      carrier: 'USPS',
      carrierService: 'USPS Priority Mail',
      signature: 'none',
      weight: { unit: 'pound', value: 1 },
      packageCode: 'usps_small_flat_rate_box',
    },
    ...delivery(),
  }),
};
