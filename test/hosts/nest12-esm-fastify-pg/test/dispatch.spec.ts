import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ValidationPipe } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FulfilmentService } from 'nestjs-fulfilment';
import { ScriptDropSimulator } from 'nestjs-fulfilment/testing';
import { AppModule } from '../src/app.module.js';

describe('courier checkout against the ScriptDrop simulator', () => {
  const scriptdrop = new ScriptDropSimulator({ apiKey: 'pk_gateway_test', apiSecret: 'sk_gateway_test', stepMs: 0 });
  let app: NestFastifyApplication;
  let baseUrl: string;

  beforeAll(async () => {
    await scriptdrop.start();
    Object.assign(process.env, {
      SCRIPTDROP_BASE_URL: scriptdrop.url,
      SCRIPTDROP_API_KEY: 'pk_gateway_test',
      SCRIPTDROP_API_SECRET: 'sk_gateway_test',
      FULFILMENT_WEBHOOK_SECRET: 'gateway-test-webhook-secret-1',
      FULFILMENT_SYNC_INTERVAL_MS: '1000',
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: ['error', 'warn'] });
    app.useGlobalPipes(new ValidationPipe({ transform: true }));
    // Real HTTP rather than app.inject(): light-my-request loads cookie@2, which is ESM-only, and
    // Jest cannot require() ESM on Node 20.
    await app.listen(0, '127.0.0.1');
    baseUrl = await app.getUrl();
  });

  afterAll(async () => {
    await app?.close();
    await scriptdrop.stop();
  });

  it('creates a delivery that the status sync follows to delivered', async () => {
    const created = await fetch(`${baseUrl}/checkouts/scriptdrop`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        reference: `jest-${Date.now()}`,
        patient: { id: 'patient-1', firstName: 'Test', lastName: 'Patient', dob: '2000-01-01', phone: '1000010101' },
        address: { street1: '1 Test St', city: 'Columbus', state: 'OH', zip: '43210' },
        rx: { number: 'RX-1', ndc: '69618001436', quantity: 30, daysSupply: 30 },
      }),
    });
    expect(created.status).toBe(201);
    const { orderId } = (await created.json()) as { orderId: string };
    const fulfilment = app.get(FulfilmentService);
    const { providerOrderId } = await fulfilment.getOrder(orderId);
    while (scriptdrop.advance(providerOrderId!).length > 0);
    // The host's scheduled status sync (every second here) reads the delivery from ScriptDrop.
    const deadline = Date.now() + 15_000;
    while ((await fulfilment.getOrder(orderId)).status !== 'delivered' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const view = (await (await fetch(`${baseUrl}/orders/${orderId}`)).json()) as { status: string; history: Array<{ source: string }> };
    expect(view).toMatchObject({ status: 'delivered', providerStatus: 'delivered' });
    expect(view.history.at(-1)?.source).toBe('sync');
  });
});
