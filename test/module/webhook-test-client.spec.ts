import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { FulfilmentOrder, FulfilmentEvents } from 'nestjs-fulfilment';
import { createWebhookTestClient } from 'nestjs-fulfilment/testing';
import { seedOrder } from '../support/seed-orders.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const SECRET = 'host-test-secret-0123456789';

describe('createWebhookTestClient (for hosts testing their own handlers)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ sandbox: { stepMs: 0 }, webhooks: { secret: SECRET }, sync: { enabled: false } });
    await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'hostorder1', idempotencyKey: 'host-1', providerStatus: 'pending' });
  });
  afterAll(() => t.close());

  it('posts a correctly tokened order event that the module applies and announces', async () => {
    const hooks = createWebhookTestClient({ baseUrl: t.url, secret: SECRET });
    const res = await hooks.caryrxOrderEvent({ id: 'hostorder1', order_status: 'shipped', updated_at: new Date().toISOString() });
    expect(res.status).toBeLessThan(300);
    const order = await t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { providerOrderId: 'hostorder1' });
    expect(order).toMatchObject({ status: 'in_transit', providerStatus: 'shipped' });
    expect(t.events.find((e) => e.name === FulfilmentEvents.OrderStatusChanged)?.payload).toMatchObject({ status: 'in_transit', source: 'webhook' });
  });

  it('a wrong token is refused with 401', async () => {
    const hooks = createWebhookTestClient({ baseUrl: t.url, secret: 'not-the-secret-0000000000' });
    expect((await hooks.caryrxPrescriptionEvent({ id: 'rx00000001', status: 'pending' })).status).toBe(401);
  });
});
