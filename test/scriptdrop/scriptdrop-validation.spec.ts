import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  FulfilmentValidationError,
  SCRIPTDROP_CARRIER_SERVICES,
  SCRIPTDROP_CARRIER_SIGNATURES,
  SCRIPTDROP_SERVICE_LEVELS,
  type ScriptDropOrderInput,
} from 'nestjs-fulfilment';
import { SCRIPTDROP_DOC_INPUT, docAddPrescription } from '../fixtures/scriptdrop-examples.js';
import { SCRIPTDROP_RULE_CASES as CASES, base, long, set, type Level } from '../fixtures/scriptdrop-rule-cases.js';
import { startScriptDrop, type ScriptDropTestContext } from './support.js';

/** The document's own words: rules may name them (e.g. "required for service level sameday"). */
const VOCABULARY = new Set<string>([...SCRIPTDROP_SERVICE_LEVELS, ...SCRIPTDROP_CARRIER_SERVICES, ...SCRIPTDROP_CARRIER_SIGNATURES.USPS]);

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
