import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { Controller, Get, Module } from '@nestjs/common';
import { sendRaw, type FullAnswer } from '../support/raw-http.js';
import { LogLines } from '../support/log-lines.js';
import { TEST_ADAPTERS, type TestAppExtras } from '../support/test-app.js';
import { SECRET, startCaryRx, type CaryRxTestContext } from './support.js';

/** A host route under the module's webhook prefix: the module leaves it to the host. */
@Controller('fulfilment/webhooks/host-status')
class HostStatusController {
  @Get()
  status() {
    return { host: true };
  }
}
@Module({ controllers: [HostStatusController] })
class HostRoutesModule {}

const PATHS = ['/fulfilment/webhooks/caryrx/orders', '/fulfilment/webhooks/caryrx/prescriptions'];
const METHODS = ['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
const UNKNOWN = [
  `/fulfilment/webhooks/caryrx/orders/x?token=${SECRET}`,
  `/fulfilment/webhooks/nope?token=${SECRET}`,
  `/fulfilment/webhooks?token=${SECRET}`,
  `/fulfilment/webhooks/caryrx//orders?token=${SECRET}`,
  // The token in the path.
  `/fulfilment/webhooks/caryrx/orders/${SECRET}`,
  `/fulfilment/webhooks/${SECRET}`,
];

/** Nothing of the answer (status line aside) repeats the secret. */
const expectNoSecret = (res: FullAnswer) => expect(JSON.stringify({ headers: res.headers, text: res.text })).not.toContain(SECRET);

/**
 * What the module answers under its webhook prefix besides an accepted POST, on both adapters:
 * fixed 405/404 bodies that never repeat the URL (the token is in it), and 401 before any body rule.
 */
describe.each(TEST_ADAPTERS)('CaryRx webhook prefix answers on %s', (adapter) => {
  let ctx: CaryRxTestContext;
  const logs = new LogLines();

  beforeAll(async () => {
    const extra: TestAppExtras = { adapter, logger: logs, imports: [HostRoutesModule] };
    ctx = await startCaryRx({}, extra);
  });
  afterAll(async () => {
    await ctx?.close();
  });

  it.each(PATHS.flatMap((path) => METHODS.map((method) => [method, path])))('%s %s?token=<secret>: 405, Allow: POST, a fixed body', async (method, path) => {
    const res = await sendRaw(method, `${ctx.t.url}${path}?token=${SECRET}`, { body: ['PUT', 'PATCH'].includes(method) ? '{"id":"x"}' : undefined });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
    if (method !== 'HEAD') expect(res.body).toEqual({ statusCode: 405, error: 'Method Not Allowed', message: 'webhook routes accept only POST' });
    expectNoSecret(res);
  });

  it.each(UNKNOWN.flatMap((path) => ['GET', 'POST'].map((method) => [method, path.replace(SECRET, '<secret>'), path])))(
    '%s %s: 404 with a fixed body, before any body is read',
    async (method, _shown, path) => {
      const res = await sendRaw(method, `${ctx.t.url}${path}`, { body: method === 'POST' ? '{"id":' : undefined });
      expect(res).toMatchObject({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'no webhook route here' } });
      expectNoSecret(res);
    },
  );

  it.each(PATHS)('%s: a wrong token is 401 whatever the body (malformed, 200 KB, not JSON)', async (path) => {
    const url = `${ctx.t.url}${path}?token=wrong-token-wrong-token`;
    const bodies = [{ body: '{"id":' }, { body: JSON.stringify({ id: 'p1', pad: 'x'.repeat(200_000) }) }, { body: '{"id":', headers: { 'content-type': 'text/plain' } }];
    for (const body of bodies) expect((await sendRaw('POST', url, body)).body).toEqual({ statusCode: 401, error: 'Unauthorized', message: 'invalid or missing webhook token' });
  });

  it('a POST with the right token is still accepted, and a host route under the prefix stays the host\'s', async () => {
    const ok = await sendRaw('POST', `${ctx.t.url}${PATHS[0]}?token=${SECRET}`, { body: JSON.stringify({ id: 'answers1', order_status: 'pending' }) });
    expect(ok).toMatchObject({ status: 200, body: { received: true } });
    expect(await sendRaw('GET', `${ctx.t.url}/fulfilment/webhooks/host-status?token=${SECRET}`)).toMatchObject({ status: 200, body: { host: true } });
  });

  it('no log line of the app repeats the secret', () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.lines.filter((line) => line.includes(SECRET))).toEqual([]);
  });
});
