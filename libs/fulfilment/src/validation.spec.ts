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
    expect(error.fields).toEqual([{ path: 'id', messages: [message] }]);
    expect(error.message).toBe(`CaryRx get order: invalid input: id ${message}`);
    if (typeof value === 'string' && value) expect(error.message).not.toContain(value);
  });
});
