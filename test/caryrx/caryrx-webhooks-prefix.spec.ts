import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { RequestMethod } from '@nestjs/common';
import { postRaw, sendRaw } from '../support/raw-http.js';
import { TEST_ADAPTERS, type TestAppExtras } from '../support/test-app.js';
import { SECRET, startCaryRx, type CaryRxTestContext } from './support.js';

/**
 * The webhook routes under a host's global prefix, one of them excluded from it: the module's own
 * answers (not the adapter's body parser's) still come first, on both adapters.
 */
describe.each(TEST_ADAPTERS)('CaryRx webhooks under a global prefix on %s', (adapter) => {
  let ctx: CaryRxTestContext;
  const url = (path: string, token = SECRET) => `${ctx.t.url}${path}?token=${encodeURIComponent(token)}`;
  const ORDERS = '/api/hooks/webhooks/caryrx/orders';
  // Excluded from the global prefix by the host.
  const PRESCRIPTIONS = '/hooks/webhooks/caryrx/prescriptions';

  beforeAll(async () => {
    const extra: TestAppExtras = {
      adapter,
      configure: (app) => app.setGlobalPrefix('api', { exclude: [{ path: 'hooks/webhooks/caryrx/prescriptions', method: RequestMethod.POST }] }),
    };
    ctx = await startCaryRx({ webhooks: { routePrefix: 'hooks', maxBodyBytes: 4096 } }, extra);
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it.each([ORDERS, PRESCRIPTIONS])('%s: 401 for a wrong token with a 2 MB body, 415 for text/plain, 413 past the cap, 400 for malformed JSON, 200 for a valid event', async (path) => {
    const twoMb = JSON.stringify({ id: 'p1', padding: 'x'.repeat(2_000_000) });
    expect((await postRaw(url(path, 'wrong-token-wrong-token'), { body: twoMb })).status).toBe(401);
    expect((await postRaw(url(path), { headers: { 'content-type': 'text/plain' }, body: '{"id":"p1"}' })).status).toBe(415);
    expect((await postRaw(url(path), { body: JSON.stringify({ id: 'p1', padding: 'x'.repeat(5000) }), chunked: true })).status).toBe(413);
    const malformed = await postRaw(url(path), { body: '{"id":' });
    expect(malformed).toMatchObject({ status: 400, body: { fields: [{ path: '(body)' }] } });
    const valid = await postRaw(url(path), { body: JSON.stringify({ id: 'prefix1', order_status: 'pending', status: 'verified' }) });
    expect(valid).toMatchObject({ status: 200, body: { received: true } });
  });

  it('another method on a webhook path is 405 and any other path under either prefix 404, fixed answers without the token', async () => {
    for (const path of [ORDERS, PRESCRIPTIONS]) {
      const res = await sendRaw('GET', url(path));
      expect({ status: res.status, allow: res.headers.allow, secret: res.text.includes(SECRET) }).toEqual({ status: 405, allow: 'POST', secret: false });
    }
    for (const path of ['/api/hooks/webhooks/nope', '/hooks/webhooks/caryrx/orders/x']) {
      const res = await sendRaw('POST', url(path), { body: '{"id":' });
      expect({ status: res.status, message: res.body.message, secret: res.text.includes(SECRET) }).toEqual({ status: 404, message: 'no webhook route here', secret: false });
    }
  });
});
