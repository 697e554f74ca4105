import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  FulfilmentValidationError,
  SCRIPTDROP_CARRIER_SERVICES,
  SCRIPTDROP_CARRIER_SIGNATURES,
  SCRIPTDROP_SERVICE_LEVELS,
  type ScriptDropOrderInput,
} from 'nestjs-fulfilment';
import { SCRIPTDROP_DOC_INPUT, docAddPrescription } from '../fixtures/scriptdrop-examples.js';
import { startScriptDrop, type ScriptDropTestContext } from './support.js';

/** The document's own words: rules may name them (e.g. "required for service level sameday"). */
const VOCABULARY = new Set<string>([...SCRIPTDROP_SERVICE_LEVELS, ...SCRIPTDROP_CARRIER_SERVICES, ...SCRIPTDROP_CARRIER_SIGNATURES.USPS]);

type Level = 'sameday' | 'ondemand' | 'shipping' | 'ups' | 'fedex';

/** The document's examples, plus UPS and FedEx shipping variants (dimensions instead of a package code). */
function base(level: Level): ScriptDropOrderInput {
  if (level === 'ups' || level === 'fedex') {
    const order = SCRIPTDROP_DOC_INPUT.shipping();
    order.shipping = {
      carrier: level === 'ups' ? 'UPS' : 'FedEx',
      carrierService: level === 'ups' ? 'UPS Ground' : 'FedEx Ground',
      signature: 'none',
      weight: { unit: 'pound', value: 2 },
      dimensions: { unit: 'inch', length: 10, width: 8, height: 4 },
    };
    return order;
  }
  return SCRIPTDROP_DOC_INPUT[level]();
}

/** Sets (or, for undefined, deletes) a value at a path such as `prescriptions[0].payers[0].bin`. */
function set(target: any, path: string, value: unknown): void {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  const last = keys.pop()!;
  const holder = keys.reduce((o, k) => o[k], target);
  if (value === undefined) delete holder[last];
  else holder[last] = value;
}

interface Case {
  rule: string;
  level: Level;
  changes: Record<string, unknown>;
  /** Field paths the error must name. */
  paths: string[];
}

const long = (n: number) => 'x'.repeat(n);

const CASES: Case[] = [
  // --- lengths ---------------------------------------------------------------------------------
  { rule: 'pharmacy npi is 10 digits', level: 'sameday', changes: { 'pharmacy.npi': '123456789' }, paths: ['pharmacy.npi'] },
  { rule: 'pharmacy ncpdp is 7 digits', level: 'sameday', changes: { 'pharmacy.ncpdp': '12345678' }, paths: ['pharmacy.ncpdp'] },
  { rule: 'state is 2 letters', level: 'sameday', changes: { 'recipient.address.state': 'Ohio' }, paths: ['recipient.address.state'] },
  { rule: 'zipcode is 5 or 9 digits', level: 'sameday', changes: { 'recipient.address.zipcode': '4321099' }, paths: ['recipient.address.zipcode'] },
  { rule: 'prescriber address zipcode is 5 or 9 digits', level: 'sameday', changes: { 'prescriptions[0].prescriber.address.zipcode': '432' }, paths: ['prescriptions[0].prescriber.address.zipcode'] },
  { rule: 'recipient mobile phone is 10 digits', level: 'sameday', changes: { 'recipient.mobilePhoneNumber': '11155500001' }, paths: ['recipient.mobilePhoneNumber'] },
  { rule: 'recipient home phone is 10 digits', level: 'sameday', changes: { 'recipient.homePhoneNumber': '222555' }, paths: ['recipient.homePhoneNumber'] },
  { rule: 'patient mobile phone is 10 digits', level: 'sameday', changes: { 'patient.mobilePhoneNumber': '333-555-0000' }, paths: ['patient.mobilePhoneNumber'] },
  { rule: 'patient home phone is 10 digits', level: 'sameday', changes: { 'patient.homePhoneNumber': '44455500000' }, paths: ['patient.homePhoneNumber'] },
  { rule: 'ndc is 11 digits', level: 'sameday', changes: { 'prescriptions[0].ndc': '6961800143' }, paths: ['prescriptions[0].ndc'] },
  { rule: 'delivery notes at most 280', level: 'sameday', changes: { deliveryNotes: long(281) }, paths: ['deliveryNotes'] },
  { rule: 'external reference number at most 255', level: 'sameday', changes: { externalReferenceNumber: long(256) }, paths: ['externalReferenceNumber'] },
  { rule: 'recipient description at most 71', level: 'sameday', changes: { 'recipient.description': long(72) }, paths: ['recipient.description'] },
  { rule: 'patient first name at most 30', level: 'sameday', changes: { 'patient.firstName': long(31) }, paths: ['patient.firstName'] },
  { rule: 'patient last name at most 40', level: 'sameday', changes: { 'patient.lastName': long(41) }, paths: ['patient.lastName'] },
  { rule: 'street at most 255', level: 'sameday', changes: { 'recipient.address.street': long(256) }, paths: ['recipient.address.street'] },
  { rule: 'street2 at most 255', level: 'sameday', changes: { 'recipient.address.street2': long(256) }, paths: ['recipient.address.street2'] },
  { rule: 'city at most 255', level: 'sameday', changes: { 'recipient.address.city': long(256) }, paths: ['recipient.address.city'] },
  { rule: 'rx number at most 255', level: 'sameday', changes: { 'prescriptions[0].number': long(256) }, paths: ['prescriptions[0].number'] },
  { rule: 'bin at most 255', level: 'sameday', changes: { 'prescriptions[0].payers[0].bin': long(256) }, paths: ['prescriptions[0].payers[0].bin'] },
  { rule: 'pcn at most 255', level: 'sameday', changes: { 'prescriptions[0].payers[1].pcn': long(256) }, paths: ['prescriptions[0].payers[1].pcn'] },

  // --- required fields ---------------------------------------------------------------------------
  { rule: 'pharmacy required', level: 'sameday', changes: { pharmacy: undefined }, paths: ['pharmacy'] },
  { rule: 'recipient required', level: 'sameday', changes: { recipient: undefined }, paths: ['recipient'] },
  { rule: 'patient required', level: 'sameday', changes: { patient: undefined }, paths: ['patient'] },
  { rule: 'prescriptions required', level: 'sameday', changes: { prescriptions: undefined }, paths: ['prescriptions'] },
  { rule: 'at least one prescription', level: 'sameday', changes: { prescriptions: [] }, paths: ['prescriptions'] },
  { rule: 'recipient description required', level: 'sameday', changes: { 'recipient.description': undefined }, paths: ['recipient.description'] },
  { rule: 'recipient address required', level: 'sameday', changes: { 'recipient.address': undefined }, paths: ['recipient.address'] },
  { rule: 'address street required', level: 'sameday', changes: { 'recipient.address.street': undefined }, paths: ['recipient.address.street'] },
  { rule: 'address city required', level: 'sameday', changes: { 'recipient.address.city': '' }, paths: ['recipient.address.city'] },
  { rule: 'patient first name required', level: 'sameday', changes: { 'patient.firstName': undefined }, paths: ['patient.firstName'] },
  { rule: 'patient gender required', level: 'sameday', changes: { 'patient.gender': undefined }, paths: ['patient.gender'] },
  { rule: 'patient date of birth required', level: 'sameday', changes: { 'patient.dateOfBirth': undefined }, paths: ['patient.dateOfBirth'] },
  { rule: 'prescriber required', level: 'sameday', changes: { 'prescriptions[0].prescriber': undefined }, paths: ['prescriptions[0].prescriber'] },
  { rule: 'prescriber npi required', level: 'sameday', changes: { 'prescriptions[0].prescriber.npi': undefined }, paths: ['prescriptions[0].prescriber.npi'] },
  { rule: 'payers required', level: 'sameday', changes: { 'prescriptions[0].payers': undefined }, paths: ['prescriptions[0].payers'] },
  { rule: 'payer rx group required', level: 'sameday', changes: { 'prescriptions[0].payers[0].rxGroup': undefined }, paths: ['prescriptions[0].payers[0].rxGroup'] },
  { rule: 'refrigeration required', level: 'sameday', changes: { 'prescriptions[0].refrigeration': undefined }, paths: ['prescriptions[0].refrigeration'] },
  { rule: 'other item sku required', level: 'sameday', changes: { 'otherItems[0].sku': undefined }, paths: ['otherItems[0].sku'] },
  { rule: 'shipping carrier required', level: 'shipping', changes: { 'shipping.carrier': undefined }, paths: ['shipping.carrier'] },
  { rule: 'shipping signature required', level: 'shipping', changes: { 'shipping.signature': undefined }, paths: ['shipping.signature'] },
  { rule: 'shipping weight required', level: 'shipping', changes: { 'shipping.weight': undefined }, paths: ['shipping.weight'] },
  { rule: 'weight value required', level: 'shipping', changes: { 'shipping.weight.value': undefined }, paths: ['shipping.weight.value'] },

  // --- types ----------------------------------------------------------------------------------
  { rule: 'days supply is an integer', level: 'sameday', changes: { 'prescriptions[0].daysSupply': 30.5 }, paths: ['prescriptions[0].daysSupply'] },
  { rule: 'fill number is an integer', level: 'sameday', changes: { 'prescriptions[0].fillNumber': '1' }, paths: ['prescriptions[0].fillNumber'] },
  { rule: 'fill quantity is a decimal', level: 'sameday', changes: { 'prescriptions[0].fillQuantity': 'thirty' }, paths: ['prescriptions[0].fillQuantity'] },
  { rule: 'patient pay is a decimal', level: 'sameday', changes: { 'prescriptions[0].patientPay': '50.00' }, paths: ['prescriptions[0].patientPay'] },
  { rule: 'delivery fee is a decimal', level: 'sameday', changes: { deliveryFee: '5.00' }, paths: ['deliveryFee'] },
  { rule: 'rx amount due is not negative', level: 'sameday', changes: { rxAmountDue: -2 }, paths: ['rxAmountDue'] },
  { rule: 'government plan indicator is a boolean', level: 'sameday', changes: { 'prescriptions[0].payers[0].governmentPlanIndicator': 'false' }, paths: ['prescriptions[0].payers[0].governmentPlanIndicator'] },
  { rule: 'photo id required is a boolean', level: 'sameday', changes: { photoIdRequired: 'true' }, paths: ['photoIdRequired'] },
  { rule: 'is patient is a boolean', level: 'sameday', changes: { 'recipient.isPatient': 'yes' }, paths: ['recipient.isPatient'] },
  { rule: 'date of birth is an ISO date', level: 'sameday', changes: { 'patient.dateOfBirth': '02/01/2000' }, paths: ['patient.dateOfBirth'] },
  { rule: 'date of service is an ISO date', level: 'sameday', changes: { 'prescriptions[0].dateOfService': '2019-02-30' }, paths: ['prescriptions[0].dateOfService'] },
  { rule: 'service date is an ISO date', level: 'shipping', changes: { serviceDate: '12/10/2022' }, paths: ['serviceDate'] },
  { rule: 'ready at is an ISO timestamp with a zone', level: 'ondemand', changes: { readyAt: '2019-01-02 13:00' }, paths: ['readyAt'] },
  { rule: 'other item quantity is an integer', level: 'sameday', changes: { 'otherItems[0].quantity': 1.5 }, paths: ['otherItems[0].quantity'] },
  { rule: 'weight value is a decimal above 0', level: 'shipping', changes: { 'shipping.weight.value': 0 }, paths: ['shipping.weight.value'] },
  { rule: 'dimensions are decimals above 0', level: 'ups', changes: { 'shipping.dimensions.length': -1 }, paths: ['shipping.dimensions.length'] },
  { rule: 'saturday delivery is a boolean', level: 'ups', changes: { 'shipping.saturdayDelivery': 'yes' }, paths: ['shipping.saturdayDelivery'] },

  // --- enums ----------------------------------------------------------------------------------
  { rule: 'service level enum', level: 'sameday', changes: { serviceLevel: 'nextday' }, paths: ['serviceLevel'] },
  { rule: 'initiator is pharmacy', level: 'sameday', changes: { initiator: 'patient' }, paths: ['initiator'] },
  { rule: 'gender enum', level: 'sameday', changes: { 'patient.gender': 'other' }, paths: ['patient.gender'] },
  { rule: 'refrigeration enum', level: 'sameday', changes: { 'prescriptions[0].refrigeration': 'cold' }, paths: ['prescriptions[0].refrigeration'] },
  { rule: 'coverage type enum', level: 'sameday', changes: { 'prescriptions[0].payers[0].coverageType': 'quaternary' }, paths: ['prescriptions[0].payers[0].coverageType'] },
  { rule: 'carrier enum', level: 'shipping', changes: { 'shipping.carrier': 'DHL' }, paths: ['shipping.carrier'] },
  { rule: 'carrier service enum', level: 'shipping', changes: { 'shipping.carrierService': 'USPS Media Mail' }, paths: ['shipping.carrierService'] },
  { rule: 'signature enum', level: 'shipping', changes: { 'shipping.signature': 'witness' }, paths: ['shipping.signature'] },
  { rule: 'weight unit enum', level: 'shipping', changes: { 'shipping.weight.unit': 'kilogram' }, paths: ['shipping.weight.unit'] },
  { rule: 'dimensions unit is inch', level: 'ups', changes: { 'shipping.dimensions.unit': 'centimeter' }, paths: ['shipping.dimensions.unit'] },
  { rule: 'package code enum', level: 'shipping', changes: { 'shipping.packageCode': 'usps_huge_box' }, paths: ['shipping.packageCode'] },
  { rule: 'package code per carrier (FedEx code on USPS)', level: 'shipping', changes: { 'shipping.packageCode': 'fedex_small_box_onerate' }, paths: ['shipping.packageCode'] },
  { rule: 'package code per carrier (USPS code on FedEx)', level: 'fedex', changes: { 'shipping.packageCode': 'usps_small_flat_rate_box' }, paths: ['shipping.packageCode'] },
  { rule: 'package code per carrier (UPS has none)', level: 'ups', changes: { 'shipping.packageCode': 'usps_small_flat_rate_box' }, paths: ['shipping.packageCode'] },

  // --- conditional rules ------------------------------------------------------------------------
  { rule: 'delivery fee required for sameday', level: 'sameday', changes: { deliveryFee: undefined }, paths: ['deliveryFee'] },
  { rule: 'rx amount due required for sameday', level: 'sameday', changes: { rxAmountDue: undefined }, paths: ['rxAmountDue'] },
  { rule: 'delivery fee required for explicit sameday', level: 'sameday', changes: { serviceLevel: 'sameday', deliveryFee: undefined }, paths: ['deliveryFee'] },
  { rule: 'other items amount due only for sameday (not shipping)', level: 'shipping', changes: { otherItemsAmountDue: 3.5 }, paths: ['otherItemsAmountDue'] },
  { rule: 'photo id required only for sameday (not shipping)', level: 'shipping', changes: { photoIdRequired: true }, paths: ['photoIdRequired'] },
  { rule: 'ready at required for ondemand', level: 'ondemand', changes: { readyAt: undefined }, paths: ['readyAt'] },
  { rule: 'shipping block required for shipping', level: 'shipping', changes: { shipping: undefined }, paths: ['shipping'] },
  { rule: 'shipping block refused for sameday', level: 'sameday', changes: { shipping: base('shipping').shipping }, paths: ['shipping'] },
  { rule: 'shipping block refused for ondemand', level: 'ondemand', changes: { shipping: base('shipping').shipping }, paths: ['shipping'] },
  {
    rule: 'patient needs a mobile or home phone for shipping',
    level: 'shipping',
    changes: { 'patient.mobilePhoneNumber': undefined, 'patient.homePhoneNumber': undefined },
    paths: ['patient.mobilePhoneNumber', 'patient.homePhoneNumber'],
  },
  { rule: 'saturday delivery only for UPS 2nd Day Air / Next Day Air (UPS Ground)', level: 'ups', changes: { 'shipping.saturdayDelivery': true }, paths: ['shipping.saturdayDelivery'] },
  { rule: 'saturday delivery only for UPS 2nd Day Air / Next Day Air (USPS)', level: 'shipping', changes: { 'shipping.saturdayDelivery': true }, paths: ['shipping.saturdayDelivery'] },
  { rule: 'carrier service belongs to the carrier', level: 'shipping', changes: { 'shipping.carrierService': 'UPS Ground' }, paths: ['shipping.carrierService'] },
  { rule: 'carrier service belongs to the carrier (FedEx)', level: 'fedex', changes: { 'shipping.carrierService': 'USPS Priority Mail' }, paths: ['shipping.carrierService'] },
  {
    rule: 'USPS First Class under 1 pound (pounds)',
    level: 'shipping',
    changes: { 'shipping.carrierService': 'USPS First Class Mail', 'shipping.weight': { unit: 'pound', value: 1 } },
    paths: ['shipping.weight'],
  },
  {
    rule: 'USPS First Class under 1 pound (16 ounces)',
    level: 'shipping',
    changes: { 'shipping.carrierService': 'USPS First Class Mail', 'shipping.weight': { unit: 'ounce', value: 16 } },
    paths: ['shipping.weight'],
  },
  { rule: 'dimensions required without package code', level: 'shipping', changes: { 'shipping.packageCode': undefined, 'shipping.dimensions': undefined }, paths: ['shipping.dimensions'] },
  { rule: 'dimension height required without package code', level: 'ups', changes: { 'shipping.dimensions.height': undefined }, paths: ['shipping.dimensions.height'] },
  { rule: 'UPS signatures: no patient_signature', level: 'ups', changes: { 'shipping.signature': 'patient_signature' }, paths: ['shipping.signature'] },
  { rule: 'unknown fields are refused', level: 'sameday', changes: { deliveryWindow: 'morning' }, paths: ['deliveryWindow'] },
  { rule: 'the printed _comment is not a field', level: 'shipping', changes: { 'shipping.dimensions._comment': 'The dimensions key is not required' }, paths: ['shipping.dimensions._comment'] },
];

describe('ScriptDrop: every documented rule is enforced before anything is sent', () => {
  let ctx: ScriptDropTestContext;

  beforeAll(async () => {
    ctx = await startScriptDrop();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it.each(CASES.map((c) => [c.rule, c] as const))('refuses: %s', async (_rule, c) => {
    const input = base(c.level) as unknown as Record<string, unknown>;
    for (const [path, value] of Object.entries(c.changes)) set(input, path, value);
    const requestsBefore = ctx.sim.requests.length;

    const error = await ctx.api.createOrder(input as unknown as ScriptDropOrderInput).then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(FulfilmentValidationError);
    const fields = (error as FulfilmentValidationError).fields;
    for (const path of c.paths) {
      expect(fields.map((f) => f.path)).toContain(path);
      expect((error as Error).message).toContain(path);
    }
    // Only the broken fields are named.
    expect(fields.every((f) => c.paths.some((p) => f.path === p || f.path.startsWith(`${p}.`)))).toBe(true);
    // Messages never carry the value (documented constants such as `sameday` may be named by a rule).
    for (const value of Object.values(c.changes)) {
      if (typeof value === 'string' && value.length >= 4 && !VOCABULARY.has(value)) {
        expect((error as Error).message).not.toContain(value);
        expect(JSON.stringify(fields)).not.toContain(value);
      }
    }
    // Nothing reached ScriptDrop.
    expect(ctx.sim.requests.length).toBe(requestsBefore);
    expect(ctx.sim.createBodies).toHaveLength(0);
  });

  it('names every bad field in one error, each once by its full path, with the first rule it broke', async () => {
    const input = base('shipping') as unknown as Record<string, unknown>;
    set(input, 'pharmacy.npi', '1');
    set(input, 'patient.lastName', long(41));
    set(input, 'shipping.carrierService', 'UPS Next Day Air');
    set(input, 'prescriptions[0].payers[1].coverageType', 'fourth');
    // Several rules broken at once: a missing field is "required", a wrong type is the type.
    set(input, 'prescriptions[0].number', undefined);
    set(input, 'prescriptions[0].daysSupply', '30');
    set(input, 'recipient.address.zipcode', 43210);
    const error = (await ctx.api.createOrder(input as unknown as ScriptDropOrderInput).catch((e: unknown) => e)) as FulfilmentValidationError;
    expect(error).toBeInstanceOf(FulfilmentValidationError);
    const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
    expect([...error.fields].sort(byPath)).toEqual(
      [
        { path: 'pharmacy.npi', message: 'must be exactly 10 digits' },
        { path: 'patient.lastName', message: 'must be at most 40 characters' },
        { path: 'shipping.carrierService', message: 'must be a service of the chosen carrier' },
        { path: 'prescriptions[0].payers[1].coverageType', message: expect.stringMatching(/^must be one of: /) },
        { path: 'prescriptions[0].number', message: 'is required' },
        { path: 'prescriptions[0].daysSupply', message: 'must be an integer' },
        { path: 'recipient.address.zipcode', message: 'must be 5 or 9 digits' },
      ].sort(byPath),
    );
    expect(error.message).toContain('prescriptions[0].number is required;');
    expect(ctx.sim.requests).toHaveLength(0);
  });

  it('add-prescription has no dateOfService (its table lists none): refused as unknown, nothing sent', async () => {
    const before = ctx.sim.requests.length;
    const error = (await ctx.api
      .addPrescription('1000', { ...docAddPrescription(), dateOfService: '2019-02-03' } as never)
      .catch((e: unknown) => e)) as FulfilmentValidationError;
    expect(error).toBeInstanceOf(FulfilmentValidationError);
    expect(error.fields).toEqual([{ path: 'dateOfService', message: 'is not a known field' }]);
    expect(ctx.sim.requests).toHaveLength(before);
  });

  it('validates add-prescription bodies and ids the same way', async () => {
    const rx = { ...docAddPrescription(), ndc: '123', payers: [{ ...docAddPrescription().payers[0], bin: long(256) }] };
    const error = (await ctx.api.addPrescription('1000', rx).catch((e: unknown) => e)) as FulfilmentValidationError;
    expect(error).toBeInstanceOf(FulfilmentValidationError);
    expect(error.fields.map((f) => f.path)).toEqual(['ndc', 'payers[0].bin']);
    // A bad id does not hide a bad body, nor a second bad id.
    const both = (await ctx.api.addPrescription('', rx).catch((e: unknown) => e)) as FulfilmentValidationError;
    expect(both.fields.map((f) => f.path)).toEqual(['orderId', 'ndc', 'payers[0].bin']);
    await expect(ctx.api.removePrescription('', '')).rejects.toMatchObject({
      fields: [
        { path: 'orderId', message: 'must not be empty' },
        { path: 'rxNumber', message: 'must not be empty' },
      ],
    });
    await expect(ctx.api.getOrder('')).rejects.toBeInstanceOf(FulfilmentValidationError);
    await expect(ctx.api.getOrder('9'.repeat(256))).rejects.toMatchObject({ fields: [{ path: 'id', message: 'must be at most 255 characters' }] });
    await expect(ctx.api.getOrders([])).rejects.toBeInstanceOf(FulfilmentValidationError);
    await expect(ctx.api.removePrescription('1000', '')).rejects.toBeInstanceOf(FulfilmentValidationError);
    const address = SCRIPTDROP_DOC_INPUT.sameday().recipient.address;
    await expect(ctx.api.getPharmacyDeliveryInformation('12345', { deliveryAddress: address })).rejects.toBeInstanceOf(FulfilmentValidationError);
    expect(ctx.sim.requests).toHaveLength(0);
  });

  it('delivery information: a missing address and bad options are refused before sending', async () => {
    const before = ctx.sim.requests.length;
    const missing = (await ctx.api
      .getPharmacyDeliveryInformation('1234567', {} as never)
      .catch((e: unknown) => e)) as FulfilmentValidationError;
    expect(missing).toBeInstanceOf(FulfilmentValidationError);
    expect(missing.fields).toEqual([{ path: 'deliveryAddress', message: 'is required' }]);

    const bad = (await ctx.api
      .getPharmacyDeliveryInformation('12345', {
        deliveryAddress: { street: '1 Main St', city: 'Columbus', state: 'Ohio', zipcode: '4321' },
        pod: 'anyone' as never,
        package: 'box' as never,
        saturdayDelivery: 'yes' as never,
      })
      .catch((e: unknown) => e)) as FulfilmentValidationError;
    expect(bad.fields.map((f) => f.path)).toEqual([
      'pharmacyId',
      'deliveryAddress.state',
      'deliveryAddress.zipcode',
      'pod',
      'package',
      'saturdayDelivery',
    ]);
    expect(ctx.sim.requests).toHaveLength(before);
  });

  describe('what the rules allow', () => {
    const allowed: Array<[string, Level, Record<string, unknown>]> = [
      ['ondemand without delivery fee and rx amount due', 'ondemand', { deliveryFee: undefined, rxAmountDue: undefined, otherItemsAmountDue: undefined }],
      ['shipping without delivery fee and rx amount due', 'shipping', { deliveryFee: undefined, rxAmountDue: undefined }],
      ['shipping with only the patient’s home phone', 'shipping', { 'patient.mobilePhoneNumber': undefined }],
      ['a package code without dimensions', 'shipping', { 'shipping.dimensions': undefined }],
      ['USPS First Class at 15.9 ounces', 'shipping', { 'shipping.carrierService': 'USPS First Class Mail', 'shipping.weight': { unit: 'ounce', value: 15.9 } }],
      ['UPS Next Day Air with saturday delivery', 'ups', { 'shipping.carrierService': 'UPS Next Day Air', 'shipping.saturdayDelivery': true, 'shipping.signature': 'adult_required' }],
      ['FedEx with a patient signature and a OneRate box', 'fedex', { 'shipping.signature': 'patient_signature', 'shipping.packageCode': 'fedex_small_box_onerate' }],
      ['USPS with a patient signature', 'shipping', { 'shipping.signature': 'patient_signature' }],
      ['a 9-digit zipcode and an initiator', 'sameday', { 'recipient.address.zipcode': '432101234', initiator: 'pharmacy' }],
    ];
    it.each(allowed)('sends %s', async (_name, level, changes) => {
      const input = base(level) as unknown as Record<string, unknown>;
      for (const [path, value] of Object.entries(changes)) set(input, path, value);
      const before = ctx.sim.createBodies.length;
      const order = await ctx.api.createOrder(input as unknown as ScriptDropOrderInput);
      expect(order.status).toBe('new');
      expect(ctx.sim.createBodies).toHaveLength(before + 1);
    });
  });
});
