import { describe, it, expect } from '@jest/globals';
import { HttpException } from '@nestjs/common';
import { FulfilmentError, FulfilmentOptionsError } from '../orders/fulfilment-errors.js';
import { providerErrorFromResponse } from '../http/provider-errors.js';
import { toHttpError } from './to-http-error.js';

// The kinds a request can meet are proven over HTTP in test/host-http/error-answers.spec.ts; these
// two cannot reach a request, so their mapping is checked here.
describe('toHttpError', () => {
  it('invalid options: 500 without the problems (they describe the deployment, not the request)', () => {
    const answer = toHttpError(new FulfilmentOptionsError(['caryrx.apiKey must be a non-empty string']));
    expect(answer).toEqual({
      statusCode: 500,
      body: { statusCode: 500, error: 'Internal Server Error', type: 'invalid_options', message: 'Invalid FulfilmentModule options' },
      headers: {},
    });
  });

  it('a FulfilmentError of no listed kind: 500 with a fixed message, not its own', () => {
    expect(toHttpError(new FulfilmentError('internal detail'))?.body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      type: 'fulfilment_error',
      message: 'The fulfilment module could not complete the request',
    });
  });

  it.each([405, 406])('a provider %i is a refused request (502), not a state conflict (409)', (status) => {
    const error = providerErrorFromResponse({
      provider: 'scriptdrop',
      method: 'DELETE',
      path: '/api/v1/orders/1',
      status,
      body: { error: { message: 'Method Not Allowed' } },
      attempts: 1,
      retryable: false,
    });
    expect(toHttpError(error)?.body).toMatchObject({ statusCode: 502, type: 'provider_request', providerMessage: 'Method Not Allowed' });
  });

  it('a provider 409 stays a state conflict', () => {
    const error = providerErrorFromResponse({ provider: 'caryrx', method: 'POST', path: '/v1/orders', status: 409, attempts: 1, retryable: false });
    expect(toHttpError(error)?.body).toMatchObject({ statusCode: 409, type: 'provider_conflict' });
  });

  it('any other error: undefined, left to the host', () => {
    expect(toHttpError(new Error('x'))).toBeUndefined();
    expect(toHttpError(new HttpException('teapot', 418))).toBeUndefined();
    expect(toHttpError('a string')).toBeUndefined();
  });
});
