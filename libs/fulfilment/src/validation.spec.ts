import { describe, it, expect } from '@jest/globals';
import { FulfilmentValidationError } from './orders/fulfilment-errors.js';
import { validateId } from './validation.js';

describe('validateId (ids that become a path segment of a provider call)', () => {
  const failure = (value: unknown) => {
    try {
      validateId(value, 'CaryRx get order', 10);
    } catch (err) {
      return err as FulfilmentValidationError;
    }
    throw new Error('accepted');
  };

  it('answers the id itself when it is a non-empty string within the length', () => {
    expect(validateId('abcdefghij', 'CaryRx get order', 10)).toBe('abcdefghij');
  });

  it.each([
    [undefined, 'must be a string'],
    [42, 'must be a string'],
    ['', 'must not be empty'],
    ['secret-looking-id-0123456789', 'must be at most 10 characters'],
  ])('refuses %p: %s, naming the field and the operation, never the value', (value, message) => {
    const error = failure(value);
    expect(error).toBeInstanceOf(FulfilmentValidationError);
    expect(error.fields).toEqual([{ path: 'id', message }]);
    expect(error.message).toBe(`CaryRx get order: invalid input: id ${message}`);
    if (typeof value === 'string' && value) expect(error.message).not.toContain(value);
  });
});

describe('FulfilmentValidationError.rooted (a module call on a part of the host’s request)', () => {
  const error = new FulfilmentValidationError('op', [
    { path: 'order.pharmacy.npi', message: 'must be exactly 10 digits' },
    { path: 'order.prescriptions[0].ndc', message: 'must be exactly 11 digits' },
    { path: 'order', message: 'is required' },
    { path: 'orderly', message: 'is not a known field' },
    { path: 'idempotencyKey', message: 'is required' },
  ]);

  it('moves the paths under `from` to `at`, and keeps the others', () => {
    expect(error.rooted('delivery', 'order').fields.map((f) => f.path)).toEqual([
      'delivery.pharmacy.npi',
      'delivery.prescriptions[0].ndc',
      'delivery',
      'orderly',
      'idempotencyKey',
    ]);
    expect(error.rooted('', 'order').fields.map((f) => f.path).slice(0, 2)).toEqual(['pharmacy.npi', 'prescriptions[0].ndc']);
  });

  it('puts every path under `at` when no `from` is given; `(input)` becomes `at` itself', () => {
    const call = new FulfilmentValidationError('op', [
      { path: 'dob', message: 'must be a date' },
      { path: '[0].id', message: 'is required' },
      { path: '(input)', message: 'must be an object' },
    ]);
    const rooted = call.rooted('patient');
    expect(rooted.fields).toEqual([
      { path: 'patient.dob', message: 'must be a date' },
      { path: 'patient[0].id', message: 'is required' },
      { path: 'patient', message: 'must be an object' },
    ]);
    expect(rooted).toBeInstanceOf(FulfilmentValidationError);
    expect(rooted.message).toBe('op: invalid input: patient.dob must be a date; patient[0].id is required; patient must be an object');
  });
});
