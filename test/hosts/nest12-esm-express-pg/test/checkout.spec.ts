import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { FulfilmentService } from 'nestjs-fulfilment';
import { CaryRxSimulator, createWebhookTestClient } from 'nestjs-fulfilment/testing';
import { AppModule } from '../src/app.module.js';
import { setupApp } from '../src/setup.js';

const SECRET = 'clinic-test-webhook-secret-99';

describe('clinic checkout with the CaryRx simulator, behind the strict global pipe', () => {
  const caryrx = new CaryRxSimulator({ apiKey: 'clinic-test-key', stepMs: 0 });
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    await caryrx.start();
    process.env.CARYRX_BASE_URL = caryrx.url;
    process.env.CARYRX_API_KEY = 'clinic-test-key';
    process.env.FULFILMENT_WEBHOOK_SECRET = SECRET;
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = setupApp(moduleRef.createNestApplication({ logger: ['error', 'warn'] }));
    await app.listen(0, '127.0.0.1');
    baseUrl = await app.getUrl();
    await app.get(FulfilmentService).caryrx.registerWebhooks({ publicUrl: baseUrl });
  });

  afterAll(async () => {
    await app?.close();
    await caryrx.stop();
  });

  it('refuses an unknown field on its own route', async () => {
    await request(app.getHttpServer()).post('/checkouts/caryrx').send({ reference: 'x', unexpected: true }).expect(400);
  });

  it('places an order and follows CaryRx webhooks (vendor fields and all) to delivered', async () => {
    const res = await request(app.getHttpServer())
      .post('/checkouts/caryrx')
      .send({
        reference: `jest-${Date.now()}`,
        patient: { id: 'patient-7', firstName: 'Test', lastName: 'Patient', dob: '2000-01-01' },
        address: { street1: '1 Test St', city: 'New York', state: 'NY', zip: '10001' },
        medication: { name: 'atorvastatin', quantity: 30, daysSupply: 30 },
      })
      .expect(201);
    const orderId = res.body.orderId as string;
    const fulfilment = app.get(FulfilmentService);
    const { providerOrderId } = await fulfilment.getOrder(orderId);

    // A webhook as CaryRx sends it, with a field the host never declared: the strict pipe must not refuse it.
    const hooks = createWebhookTestClient({ baseUrl, secret: SECRET });
    const shipped = await hooks.caryrxOrderEvent({
      id: providerOrderId,
      order_status: 'shipped',
      updated_at: new Date().toISOString(),
      vendor_extension: { carrier: 'courier' },
    });
    expect(shipped.status).toBe(200);
    expect((await fulfilment.getOrder(orderId)).status).toBe('in_transit');

    // The simulator carries it the rest of the way and posts its own events.
    caryrx.setOrderStatus(providerOrderId!, 'delivered');
    const deadline = Date.now() + 10_000;
    while ((await fulfilment.getOrder(orderId)).status !== 'delivered' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const view = await request(app.getHttpServer()).get(`/orders/${orderId}`).expect(200);
    expect(view.body.status).toBe('delivered');
    expect(view.body.history.filter((h: { source: string }) => h.source === 'webhook').map((h: { to: string }) => h.to)).toEqual(['in_transit', 'delivered']);
  });
});
