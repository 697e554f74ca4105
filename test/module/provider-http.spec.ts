import { describe, expect, it } from '@jest/globals';
import { HttpService } from '@nestjs/axios';
import { CARYRX_HTTP_CLIENT, SCRIPTDROP_HTTP_CLIENT } from '../../libs/fulfilment/src/fulfilment.constants.js';
import type { ProviderHttpClient } from '../../libs/fulfilment/src/http/provider-http-client.js';
import { ProviderEndpoints } from 'nestjs-fulfilment';
import { createTestApp } from '../support/test-app.js';

describe('provider HTTP clients', () => {
  it('each provider sends through the axios instance of its own HttpModule registration', async () => {
    const t = await createTestApp({ sandbox: { stepMs: 0 }, webhooks: { secret: 'provider-http-secret-0001' }, sync: { enabled: false } });
    try {
      const endpoints = t.app.get(ProviderEndpoints);
      const axiosOf = (token: symbol) => (t.app.get<ProviderHttpClient>(token, { strict: false }) as unknown as { http: HttpService['axiosRef'] }).http;
      const caryrx = axiosOf(CARYRX_HTTP_CLIENT);
      const scriptdrop = axiosOf(SCRIPTDROP_HTTP_CLIENT);
      expect(caryrx).not.toBe(scriptdrop);
      expect(caryrx.defaults.baseURL).toBe(endpoints.caryrx!.baseUrl);
      expect(scriptdrop.defaults.baseURL).toBe(endpoints.scriptdrop!.baseUrl);
      // The instances are the HttpModule ones: Nest holds one HttpService per registration.
      const services = t.app.get(HttpService, { each: true, strict: false } as never) as unknown as HttpService[];
      expect(services.map((s) => s.axiosRef)).toEqual(expect.arrayContaining([caryrx, scriptdrop]));
    } finally {
      await t.close();
    }
  });
});
