import { describe, it, expect } from '@jest/globals';
import {
  extractProviderMessage,
  ProviderConflictError,
  ProviderRateLimitError,
  ProviderRequestError,
  providerErrorFromResponse,
  redactSecrets,
  sentValues,
} from './provider-errors.js';

describe('extractProviderMessage', () => {
  it.each<[unknown, string | undefined]>([
    [{ error: { message: 'Carrier service level does not offer saturday delivery.' } }, 'Carrier service level does not offer saturday delivery.'],
    [{ error: 'invalid_api_key' }, 'invalid_api_key'],
    [{ message: 'Patient not found' }, 'Patient not found'],
    [{ errors: ['dob is required', { message: 'zip is invalid' }] }, 'dob is required; zip is invalid'],
    [{ errors: [{ field: 'zip', message: 'is invalid' }] }, 'zip: is invalid'],
    [{ errors: { dob: ['is required'], zip: 'bad' } }, 'dob: is required; zip: bad'],
    ['  plain\n text  ', 'plain text'],
    ['{"message":"json as text"}', 'json as text'],
    ['<!DOCTYPE html><html><body>Bad gateway</body></html>', undefined],
    ['', undefined],
    [undefined, undefined],
    [{ unrelated: true }, undefined],
  ])('%p → %p', (body, expected) => {
    expect(extractProviderMessage(body)).toBe(expected);
  });

  it('truncates to 500 characters', () => {
    const msg = extractProviderMessage({ message: 'x'.repeat(2000) });
    expect(msg).toHaveLength(500);
  });
});

describe('providerErrorFromResponse', () => {
  const base = { provider: 'caryrx' as const, method: 'post', path: '/v1/orders?x=1', attempts: 1, retryable: false };

  it('builds the message without the query string', () => {
    const err = providerErrorFromResponse({ ...base, status: 409, body: { message: 'Order already exists' } });
    expect(err).toBeInstanceOf(ProviderConflictError);
    expect(err.message).toBe('CaryRx POST /v1/orders failed: 409 Conflict: Order already exists');
    expect(err.path).toBe('/v1/orders');
  });

  it('mentions attempts when there were retries, and keeps retryAfterMs on 429', () => {
    const err = providerErrorFromResponse({ ...base, status: 429, attempts: 3, retryable: true, retryAfterMs: 1000 });
    expect(err).toBeInstanceOf(ProviderRateLimitError);
    expect((err as ProviderRateLimitError).retryAfterMs).toBe(1000);
    expect(err.message).toBe('CaryRx POST /v1/orders failed: 429 Too Many Requests (after 3 attempts)');
  });

  it.each([405, 406])('%i (wrong method or format, not the order state) → ProviderRequestError', (status) => {
    const err = providerErrorFromResponse({ ...base, status, body: { error: { message: 'no' } } });
    expect(err).toBeInstanceOf(ProviderRequestError);
    expect(err).not.toBeInstanceOf(ProviderConflictError);
    expect(err.code).toBe('request');
  });

  it('other 4xx → ProviderRequestError; toJSON has only safe fields', () => {
    const err = providerErrorFromResponse({ ...base, status: 410, headers: { 'x-request-id': 'r1' } });
    expect(err).toBeInstanceOf(ProviderRequestError);
    expect(err.toJSON()).toEqual({
      name: 'ProviderRequestError',
      code: 'request',
      message: 'CaryRx POST /v1/orders failed: 410 Gone',
      provider: 'caryrx',
      status: 410,
      providerMessage: undefined,
      attempts: 1,
      retryable: false,
      method: 'POST',
      path: '/v1/orders',
      requestId: 'r1',
    });
  });

  it('scrubs our credentials from the provider message', () => {
    const err = providerErrorFromResponse({
      ...base,
      status: 401,
      body: { error: { message: 'key sk_live_abcdef is revoked' } },
      redact: ['sk_live_abcdef'],
    });
    expect(err.providerMessage).toBe('key [REDACTED] is revoked');
    expect(err.message).not.toContain('sk_live_abcdef');
    expect(redactSecrets('abc', ['abc'])).toBe('abc'); // too short to be a secret: left alone
  });

  it('scrubs every value the request sent from the provider message, whole words only', () => {
    const sent = {
      recipient: { description: 'Ann Lee', address: { street: '12 Elm St', state: 'OH' }, phone: '6145550100' },
      patient: { first_name: 'Ann', date_of_birth: '1990-04-02' },
      location: { latitude: 40.7128 },
    };
    const err = providerErrorFromResponse({
      ...base,
      status: 422,
      body: { errors: { recipient: ['Ann Lee at 12 Elm St (6145550100) is outside the area'], patient: ['ann born 1990-04-02: Annual check due'], lat: '40.7128 bad' } },
      sent,
    });
    expect(err.providerMessage).toBe(
      'recipient: [REDACTED] at [REDACTED] ([REDACTED]) is outside the area; patient: [REDACTED] born [REDACTED]: Annual check due; lat: [REDACTED] bad',
    );
    for (const value of ['Ann Lee', '12 Elm St', '6145550100', '1990-04-02', '40.7128']) expect(err.message).not.toContain(value);
    // Two-letter values (a state) are too short to scrub without blanking out words.
    expect(sentValues(sent)).not.toContain('OH');
  });
});
