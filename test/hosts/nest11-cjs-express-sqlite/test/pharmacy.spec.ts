import { INestApplication, ValidationPipe } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import * as request from 'supertest';
import { FulfilmentService } from 'nestjs-fulfilment';
import { CaryRxSimulator, createWebhookTestClient } from 'nestjs-fulfilment/testing';
import { AppModule } from '../src/app.module';

jest.setTimeout(30_000);

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('pharmacy checkout against the CaryRx simulator', () => {
  const secret = 'portal-test-webhook-secret-01';
  const caryrx = new CaryRxSimulator({ apiKey: 'portal-test-key', stepMs: 0 });
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    await caryrx.start();
    Object.assign(process.env, {
      CARYRX_BASE_URL: caryrx.url,
      CARYRX_API_KEY: 'portal-test-key',
      FULFILMENT_WEBHOOK_SECRET: secret,
      DATABASE_PATH: ':memory:',
    });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
    app.useGlobalPipes(new ValidationPipe({ whitelist: true, transform: true }));
    await app.listen(0, '127.0.0.1');
    baseUrl = await app.getUrl();
    await app.get(FulfilmentService).caryrx.registerWebhooks({ publicUrl: baseUrl });
  });

  afterAll(async () => {
    await app?.close();
    await caryrx.stop();
  });

  it('places an order that CaryRx webhooks move to delivered', async () => {
    const res = await request(app.getHttpServer())
      .post('/checkouts/caryrx')
      .send({
        reference: 'jest-1',
        patient: { id: 'patient-1', firstName: 'Test', lastName: 'Patient', dob: '2000-01-01', phone: '1000010101' },
        address: { street1: '1 Test St', city: 'New York', state: 'NY', zip: '10001' },
        medication: { name: 'atorvastatin', quantity: 10, daysSupply: 10 },
      })
      .expect(201);
    const fulfilment = app.get(FulfilmentService);
    const { providerOrderId } = await fulfilment.getOrder(res.body.orderId);
    while (caryrx.advance(providerOrderId!).length > 0) {
      const expected = caryrx.orders.get(providerOrderId!)!.status;
      await until(async () => (await fulfilment.getOrder(res.body.orderId)).providerStatus === expected);
    }
    const view = await request(app.getHttpServer()).get(`/orders/${res.body.orderId}`).expect(200);
    expect(view.body.status).toBe('delivered');
    expect(view.body.history.at(-1)).toMatchObject({ to: 'delivered', source: 'webhook' });
  });

  it('answers 401 to a webhook with the wrong token', async () => {
    const hooks = createWebhookTestClient({ baseUrl, secret });
    const res = await hooks.caryrxOrderEvent({ id: 'unknown-order', order_status: 'shipped' }, 'not-the-secret-000000');
    expect(res.status).toBe(401);
  });
});
