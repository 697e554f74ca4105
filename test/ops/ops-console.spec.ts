import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { FulfilmentModule, FulfilmentOptionsError, FulfilmentService, type OpsRequest } from 'nestjs-fulfilment';
import { createTestApp, TEST_ADAPTERS, type TestApp } from '../support/test-app.js';
import { HOSTILE, csrfOf, seedFailedOrderEvent, seedHostileOrder, seedOrder } from './support.js';

/** The test's access check: no header 401, `mallory` refused (403), anyone else is that operator. */
function headerCheck(request: OpsRequest): string | false {
  const who = request.headers['x-operator'];
  if (who === undefined) throw new UnauthorizedException('sign in first');
  return who === 'mallory' ? false : String(who);
}

const AS_ALICE = { 'x-operator': 'alice' };

/** Table body rows on a page. */
const rows = (html: string): number => (html.match(/<tr>\s*<td>/g) ?? []).length;

async function page(url: string, headers: Record<string, string> = AS_ALICE): Promise<{ status: number; html: string; headers: Headers }> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

async function post(url: string, form: Record<string, string>, headers: Record<string, string> = AS_ALICE): Promise<{ status: number; location: string | null; html: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form), redirect: 'manual' });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

describe('ops console: mounting', () => {
  it('refuses to mount without the host\'s access check, naming ops.guard', () => {
    expect(() => FulfilmentModule.forRoot({ sandbox: true, ops: {} as never })).toThrow(FulfilmentOptionsError);
    expect(() => FulfilmentModule.forRoot({ sandbox: true, ops: { path: 'ops' } as never })).toThrow(/ops\.guard is required/);
    expect(() => FulfilmentModule.forRootAsync({ useFactory: () => ({ sandbox: true }), ops: { guard: 'yes' } as never })).toThrow(/ops\.guard is required/);
    expect(() => FulfilmentModule.forRoot({ sandbox: true, ops: { guard: headerCheck, path: '../x', pageSize: 0 } })).toThrow(
      expect.objectContaining({ problems: ['ops.path must be a URL path such as "fulfilment/ops" or "ops"', 'ops.pageSize must be an integer from 1 to 200'] }),
    );
  });

  it('stays out of the host\'s OpenAPI document', async () => {
    const t = await createTestApp({ sandbox: { stepMs: 0 }, sync: { enabled: false }, ops: { guard: headerCheck } });
    try {
      const document = SwaggerModule.createDocument(t.app, new DocumentBuilder().build());
      expect(Object.keys(document.paths).filter((path) => path.includes('/ops'))).toEqual([]);
      expect(Object.keys(document.paths).length).toBeGreaterThan(0);
      expect((await page(`${t.url}/fulfilment/ops/orders`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('follows the app\'s global prefix in its links and redirects', async () => {
    const t = await createTestApp({ sandbox: { stepMs: 0 }, sync: { enabled: false }, ops: { guard: headerCheck } }, { configure: (app) => app.setGlobalPrefix('api') });
    try {
      const order = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: null, status: 'unknown' });
      const { status, html } = await page(`${t.url}/api/fulfilment/ops/orders/${order.id}`);
      expect(status).toBe(200);
      expect(html).toContain('href="/api/fulfilment/ops/console.css"');
      expect(html).toContain(`action="/api/fulfilment/ops/orders/${order.id}/resolve"`);
      const answer = await post(`${t.url}/api/fulfilment/ops/orders/${order.id}/resolve`, { notCreated: '1', _csrf: csrfOf(html) });
      expect(answer.location).toBe(`/api/fulfilment/ops/orders/${order.id}?done=closed`);
    } finally {
      await t.close();
    }
  });

  it('is off by default: nothing answers at its path', async () => {
    const t = await createTestApp({ sandbox: { stepMs: 0 }, sync: { enabled: false } });
    try {
      expect((await page(`${t.url}/fulfilment/ops/orders`)).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe.each(TEST_ADAPTERS)('ops console on %s', (adapter) => {
  let t: TestApp;
  let ops: string;

  beforeAll(async () => {
    t = await createTestApp({ sandbox: { stepMs: 0 }, sync: { enabled: false }, ops: { guard: headerCheck } }, { adapter });
    ops = `${t.url}/fulfilment/ops`;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('answers 401 or 403 and shows nothing to a request the access check refuses', async () => {
    await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-private', hostReference: 'checkout-private' });
    const anonymous = await page(`${ops}/orders?q=checkout-private`, {});
    expect(anonymous.status).toBe(401);
    const refused = await page(`${ops}/orders?q=checkout-private`, { 'x-operator': 'mallory' });
    expect(refused.status).toBe(403);
    for (const answer of [anonymous, refused]) {
      expect(answer.html).not.toContain('checkout-private');
      expect(answer.html).not.toContain('<html');
    }
    expect((await post(`${ops}/orders/x/refresh`, {}, {})).status).toBe(401);
  });

  it('finds an order by host reference, provider id and local id, with a strict Content-Security-Policy', async () => {
    const order = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-find-1', hostReference: 'checkout-find-1' });
    for (const q of ['checkout-find-1', 'cx-find-1', order.id]) {
      const { status, html } = await page(`${ops}/orders?q=${encodeURIComponent(q)}`);
      expect(status).toBe(200);
      expect(html).toContain(`/fulfilment/ops/orders/${order.id}`);
      expect(rows(html)).toBe(1);
    }
    const { headers } = await page(`${ops}/orders`);
    expect(headers.get('content-type')).toMatch(/^text\/html/);
    expect(headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(headers.get('content-security-policy')).not.toContain('unsafe');
    expect(headers.get('x-frame-options')).toBe('DENY');
    const css = await page(`${ops}/console.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
  });

  it('names a filter it does not understand (400)', async () => {
    const { status, html } = await page(`${ops}/orders?status=lost&after=zzz`);
    expect(status).toBe(400);
    expect(html).toContain('status must be one of');
    expect(html).toContain('after must be a cursor');
  });

  it('pages through orders with keyset links, each page at most pageSize rows', async () => {
    for (let i = 0; i < 60; i++) await seedOrder(t.dataSource, { provider: 'scriptdrop', providerOrderId: `sd-page-${i}`, status: 'in_transit', createdAt: new Date(Date.UTC(2020, 0, 1, 0, i)) });
    const first = await page(`${ops}/orders?provider=scriptdrop&status=in_transit`);
    expect(rows(first.html)).toBe(50);
    expect(first.html).toContain('sd-page-59');
    const next = /href="([^"]+)" rel="next"/.exec(first.html)![1].replace(/&amp;/g, '&');
    const second = await page(`${t.url}${next}`);
    expect(rows(second.html)).toBe(10);
    expect(second.html).toContain('sd-page-0<');
    expect(second.html).not.toContain('sd-page-59');
    expect(second.html).not.toContain('rel="next"');
  });

  it('lists stuck orders: open and unchanged for longer than asked', async () => {
    const old = new Date(Date.now() - 3 * 60 * 60_000);
    const stuck = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-stuck', status: 'accepted', updatedAt: old });
    const done = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-old-done', status: 'delivered', updatedAt: old });
    const fresh = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-fresh', status: 'accepted' });
    const { html } = await page(`${ops}/orders?stuck=1&minutes=120`);
    expect(html).toContain(stuck.id);
    expect(html).not.toContain(done.id);
    expect(html).not.toContain(fresh.id);
  });

  it('refuses an action without its CSRF token, or with another operator\'s (403, nothing done)', async () => {
    const order = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: null, status: 'unknown' });
    const bobToken = csrfOf((await page(`${ops}/orders/${order.id}`, { 'x-operator': 'bob' })).html);
    expect((await post(`${ops}/orders/${order.id}/resolve`, { notCreated: '1' })).status).toBe(403);
    expect((await post(`${ops}/orders/${order.id}/resolve`, { notCreated: '1', _csrf: bobToken })).status).toBe(403);
    expect((await post(`${ops}/orders/${order.id}/resolve`, { notCreated: '1', _csrf: 'x'.repeat(40) })).status).toBe(403);
    expect((await t.app.get(FulfilmentService).getOrder(order.id)).status).toBe('unknown');
  });

  it('resolves an unknown order as not created, recorded as ops by the operator', async () => {
    const order = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: null, status: 'unknown' });
    const { html } = await page(`${ops}/orders/${order.id}`);
    expect(html).toContain('Close as not created');
    const answer = await post(`${ops}/orders/${order.id}/resolve`, { notCreated: '1', _csrf: csrfOf(html) });
    expect(answer.status).toBe(303);
    expect(answer.location).toBe(`/fulfilment/ops/orders/${order.id}?done=closed`);
    const history = await t.app.get(FulfilmentService).getOrderHistory(order.id);
    expect(history.at(-1)).toMatchObject({ toStatus: 'not_created', source: 'ops', actor: 'alice' });
    const after = await page(`${t.url}${answer.location}`);
    expect(after.html).toContain('Closed as not created.');
    expect(after.html).not.toContain('Close as not created');
  });

  it('shows a refused action\'s error on the order page with its status (CaryRx has no cancel: 422)', async () => {
    const order = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-nocancel', status: 'accepted' });
    const { html } = await page(`${ops}/orders/${order.id}`);
    expect(html).not.toContain('/cancel"');
    const answer = await post(`${ops}/orders/${order.id}/cancel`, { _csrf: csrfOf(html) });
    expect(answer.status).toBe(422);
    expect(answer.html).toContain('CaryRx orders cannot be cancelled');
  });

  it('replays a failed order event: applied, the order moves, history says ops and who', async () => {
    const order = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-replay-1', status: 'accepted' });
    const event = await seedFailedOrderEvent(t.dataSource, 'cx-replay-1');
    const failed = await page(`${ops}/webhooks?outcome=failed`);
    expect(failed.html).toContain('could not serialize access');
    const answer = await post(`${ops}/webhooks/replay`, { event: event.dedupKey, _csrf: csrfOf(failed.html) });
    expect(answer.status).toBe(303);
    expect(answer.location).toBe(`/fulfilment/ops/orders/${order.id}?done=replayed&result=applied`);
    const view = await t.app.get(FulfilmentService).getOrder(order.id);
    expect(view).toMatchObject({ status: 'in_transit', providerStatus: 'shipped', trackingNumber: '1Z999' });
    expect((await t.app.get(FulfilmentService).getOrderHistory(order.id)).at(-1)).toMatchObject({ toStatus: 'in_transit', source: 'ops', actor: 'alice' });
    const orderPage = await page(`${t.url}${answer.location}`);
    expect(orderPage.html).toContain('Outcome: applied.');
    expect(orderPage.html).toMatch(/o-applied">applied</);
    // Replayed once: it is no longer failed, and a second replay is refused.
    expect((await page(`${ops}/webhooks?outcome=failed`)).html).not.toContain('cx-replay-1');
    const again = await post(`${ops}/webhooks/replay`, { event: event.dedupKey, _csrf: csrfOf(failed.html) });
    expect(again.status).toBe(409);
    expect(again.html).toContain('only failed and unmatched events are replayed');
  });

  it('keeps an unmatched event unmatched on replay while no order has its id', async () => {
    const event = await seedFailedOrderEvent(t.dataSource, 'cx-nobody', 'shipped', 'unmatched');
    const { html } = await page(`${ops}/webhooks?outcome=unmatched`);
    const answer = await post(`${ops}/webhooks/replay`, { event: event.dedupKey, _csrf: csrfOf(html) });
    expect(answer.status).toBe(303);
    expect(answer.location).toBe('/fulfilment/ops/webhooks?outcome=unmatched&done=replayed&result=unmatched');
  });

  it('renders hostile values as text: no element, attribute or link comes from the data', async () => {
    const order = await seedHostileOrder(t.dataSource);
    await seedFailedOrderEvent(t.dataSource, HOSTILE.providerOrderId, HOSTILE.providerStatus);
    const pages = [
      (await page(`${ops}/orders?q=${encodeURIComponent(HOSTILE.hostReference)}`)).html,
      (await page(`${ops}/orders/${order.id}`)).html,
      (await page(`${ops}/webhooks?outcome=failed`)).html,
    ];
    for (const html of pages) {
      expect(html).not.toMatch(/<script|<img|<iframe|<b>|href="javascript:/i);
      expect(html).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;');
    }
    expect(pages[1]).toContain('&quot;&gt;&lt;img src=x onerror=&quot;window.__pwned=2&quot;&gt;&#39;');
    expect(pages[1]).toContain('<bdi>cx-&#39;&quot;&lt;b&gt;\u202Egnp.exe</bdi>');
  });

  it('shows the sync page: due and overdue counts, leases, last ticks', async () => {
    await seedOrder(t.dataSource, { provider: 'scriptdrop', providerOrderId: 'sd-due', status: 'accepted', nextSyncAt: new Date(Date.now() - 24 * 3600_000) });
    const { status, html } = await page(`${ops}/sync`);
    expect(status).toBe(200);
    expect(html).toMatch(/<dt>Due now<\/dt><dd>[1-9]/);
    expect(html).toMatch(/<dt>Overdue<\/dt><dd>[1-9]/);
    expect(html).toContain('No tick has run on this replica yet.');
  });
});

describe('ops console behind a guard class', () => {
  @Injectable()
  class HeaderUserGuard implements CanActivate {
    canActivate(context: ExecutionContext): boolean {
      const request = context.switchToHttp().getRequest<{ headers: Record<string, string>; user?: unknown }>();
      if (!request.headers['x-user']) return false;
      request.user = { username: request.headers['x-user'] };
      return true;
    }
  }

  it('runs the host\'s guard first and records the name it put in request.user', async () => {
    const t = await createTestApp({ sandbox: { stepMs: 0 }, sync: { enabled: false }, ops: { guard: HeaderUserGuard, path: 'admin/fulfilment' } });
    try {
      const order = await seedOrder(t.dataSource, { provider: 'scriptdrop', providerOrderId: null, status: 'unknown' });
      expect((await page(`${t.url}/admin/fulfilment/orders/${order.id}`, {})).status).toBe(403);
      const { html } = await page(`${t.url}/admin/fulfilment/orders/${order.id}`, { 'x-user': 'carol' });
      expect(html).toContain('signed in as <bdi>carol</bdi>');
      await post(`${t.url}/admin/fulfilment/orders/${order.id}/resolve`, { notCreated: '1', _csrf: csrfOf(html) }, { 'x-user': 'carol' });
      expect((await t.app.get(FulfilmentService).getOrderHistory(order.id)).at(-1)).toMatchObject({ source: 'ops', actor: 'carol' });
    } finally {
      await t.close();
    }
  });
});
