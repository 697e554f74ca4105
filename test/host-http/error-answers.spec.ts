import { describe, it, expect, beforeAll, afterAll, afterEach } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import {
  Body,
  Catch,
  Controller,
  Delete,
  Get,
  HttpException,
  Module,
  Param,
  Post,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import {
  FulfilmentExceptionFilter,
  FulfilmentService,
  ProviderEndpoints,
  toHttpError,
  type FulfilmentErrorBody,
  type ScriptDropOrderInput,
} from 'nestjs-fulfilment';
import type { ScriptDropSimulator } from 'nestjs-fulfilment/testing';
import { SCRIPTDROP_DOC_INPUT } from '../fixtures/scriptdrop-examples.js';
import { createTestApp, TEST_ADAPTERS, type TestApp } from '../support/test-app.js';
import { seedOrder } from '../support/seed-orders.js';

/**
 * A host of its own (not the sample host): a small clinic API over FulfilmentModule that registers
 * the exported FulfilmentExceptionFilter in one line, on each HTTP adapter. Every typed error the
 * module throws reaches the client through real HTTP with its documented status and body
 * (README, "Errors").
 */
@Controller('clinic')
class ClinicController {
  constructor(private readonly fulfilment: FulfilmentService) {}

  @Get('orders/:id')
  get(@Param('id') id: string) {
    return this.fulfilment.getOrder(id);
  }

  @Post('orders/:id/refresh')
  refresh(@Param('id') id: string) {
    return this.fulfilment.refreshOrder(id);
  }

  @Delete('orders/:id')
  cancel(@Param('id') id: string) {
    return this.fulfilment.cancelOrder(id);
  }

  @Post('deliveries')
  async deliver(@Body() body: { key: string; order: ScriptDropOrderInput }) {
    return (await this.fulfilment.scriptdrop.createDelivery({ idempotencyKey: body.key, order: body.order })).order;
  }

  @Post('webhooks')
  register() {
    return this.fulfilment.caryrx.registerWebhooks();
  }

  @Get('teapot')
  teapot() {
    throw new HttpException('short and stout', 418);
  }
}

/** The other way: a host's own filter that calls toHttpError() and answers for itself. */
@Catch()
class OwnErrorFilter implements ExceptionFilter {
  constructor(private readonly adapterHost: HttpAdapterHost) {}
  catch(error: unknown, host: ArgumentsHost): void {
    const answer = toHttpError(error) ?? { statusCode: 500, body: { statusCode: 500, message: 'host error' }, headers: {} };
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), { ...answer.body, via: 'own filter' }, answer.statusCode);
  }
}

@Controller('own')
@UseFilters(OwnErrorFilter)
class OwnFilterController {
  constructor(private readonly fulfilment: FulfilmentService) {}

  @Get('orders/:id')
  get(@Param('id') id: string) {
    return this.fulfilment.getOrder(id);
  }
}

@Module({
  controllers: [ClinicController, OwnFilterController],
  providers: [{ provide: APP_FILTER, useClass: FulfilmentExceptionFilter }],
})
class ClinicModule {}

const SECRET = 'clinic-webhook-secret-000001';
/** Values of the delivery below that must never come back in an answer. */
const PATIENT_VALUES = ['JOHN WAYNE DOE', '1230 Street', '2000-02-01', '3335550000', '1115550000'];
const delivery = (): ScriptDropOrderInput => ({ ...SCRIPTDROP_DOC_INPUT.sameday(), externalReferenceNumber: undefined });

interface Answer {
  status: number;
  body: FulfilmentErrorBody;
  retryAfter: string | null;
  text: string;
}

describe.each(TEST_ADAPTERS)('typed errors over HTTP through the exported filter (%s)', (adapter) => {
  let t: TestApp;
  let sim: ScriptDropSimulator;
  let credentials: string[];
  const answers: string[] = [];

  beforeAll(async () => {
    t = await createTestApp(
      // No webhooks.publicUrl: registering webhooks is a configuration error. No retries, short
      // timeouts: each provider failure is one attempt.
      { sandbox: { stepMs: 0 }, scriptdrop: { maxRetries: 0, timeoutMs: 800 }, webhooks: { secret: SECRET }, sync: { enabled: false }, isGlobal: true },
      { adapter, imports: [ClinicModule] },
    );
    const sandbox = t.app.get(ProviderEndpoints).sandbox!;
    sim = sandbox.scriptdrop;
    credentials = [SECRET, sandbox.scriptdrop.apiKey, sandbox.scriptdrop.apiSecret, sandbox.caryrx.apiKey];
  });
  afterEach(() => sim.clearFaults());
  afterAll(async () => {
    // No answer of the whole suite held a credential or a patient value.
    const all = answers.join('\n');
    for (const value of [...credentials, ...PATIENT_VALUES]) expect(all).not.toContain(value);
    await t?.close();
  });

  async function call(method: string, path: string, body?: unknown): Promise<Answer> {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    answers.push(text);
    return { status: res.status, body: JSON.parse(text) as FulfilmentErrorBody, retryAfter: res.headers.get('retry-after'), text };
  }

  /** The documented body, exactly: its status, reason phrase and type, and no other keys than these. */
  function expectBody(answer: Answer, status: number, type: string, extra: Partial<FulfilmentErrorBody> = {}): void {
    expect({ status: answer.status, statusCode: answer.body.statusCode, error: answer.body.error, type: answer.body.type }).toEqual({
      status,
      statusCode: status,
      error: STATUS_CODES[status],
      type,
    });
    expect(typeof answer.body.message).toBe('string');
    expect(Object.keys(answer.body).sort()).toEqual(['error', 'message', 'statusCode', 'type', ...Object.keys(extra)].sort());
    expect(answer.body).toMatchObject(extra);
  }

  async function newDelivery(): Promise<{ id: string; providerOrderId: string }> {
    const res = await call('POST', '/clinic/deliveries', { key: `k-${randomUUID()}`, order: delivery() });
    expect(res.status).toBe(201);
    return res.body as unknown as { id: string; providerOrderId: string };
  }

  describe('the module’s own errors', () => {
    it('invalid input: 400 naming each bad field with the rule it broke, and nothing stored or sent', async () => {
      const order = delivery();
      order.recipient.address.zipcode = '123';
      const creates = sim.countRequests('POST', '/api/v1/orders');
      const res = await call('POST', '/clinic/deliveries', { key: 'bad-zip', order });
      expectBody(res, 400, 'invalid_input', { fields: expect.any(Array) as never });
      expect(res.body.fields).toContainEqual({ path: 'order.recipient.address.zipcode', message: expect.any(String) });
      for (const field of res.body.fields!) expect(Object.keys(field).sort()).toEqual(['message', 'path']);
      expect(sim.countRequests('POST', '/api/v1/orders')).toBe(creates);
      expect(await t.app.get(FulfilmentService).findOrderByIdempotencyKey('bad-zip')).toBeNull();
    });

    it('unknown order id: 404', async () => {
      expectBody(await call('GET', `/clinic/orders/${randomUUID()}`), 404, 'not_found');
    });

    it('cancelling a terminal order: 409, refused locally with no provider call', async () => {
      const order = await seedOrder(t.dataSource, { provider: 'scriptdrop', providerOrderId: '990001', status: 'delivered', providerStatus: 'delivered' });
      const res = await call('DELETE', `/clinic/orders/${order.id}`);
      expectBody(res, 409, 'order_state_conflict');
      expect(res.body.message).toContain('delivered');
      expect(sim.countRequests('DELETE')).toBe(0);
    });

    it('an order whose create outcome is unknown cannot be refreshed: 409', async () => {
      const order = await seedOrder(t.dataSource, { provider: 'scriptdrop', providerOrderId: null, status: 'unknown' });
      expectBody(await call('POST', `/clinic/orders/${order.id}/refresh`), 409, 'order_state_conflict');
    });

    it('an operation the provider does not offer (cancelling a CaryRx order): 422 naming the provider, nothing sent', async () => {
      const caryrx = t.app.get(ProviderEndpoints).sandbox!.caryrx;
      const before = caryrx.countRequests();
      const order = await seedOrder(t.dataSource, { provider: 'caryrx', providerOrderId: 'cx-990002', status: 'accepted' });
      expectBody(await call('DELETE', `/clinic/orders/${order.id}`), 422, 'unsupported_operation', { provider: 'caryrx' });
      expect(caryrx.countRequests()).toBe(before);
    });

    it('an operation the configuration does not allow (webhooks without publicUrl): 500', async () => {
      expectBody(await call('POST', '/clinic/webhooks'), 500, 'not_configured');
    });

    it('a create whose outcome is unknown: 502 after a provider 500, 504 after a timeout; the order is kept as unknown', async () => {
      sim.addFault({ kind: 'status', status: 500, method: 'POST', path: '/api/v1/orders', times: 1 });
      const failed = await call('POST', '/clinic/deliveries', { key: 'outcome-500', order: delivery() });
      expectBody(failed, 502, 'order_outcome_unknown', { provider: 'scriptdrop' });
      sim.addFault({ kind: 'hang', method: 'POST', path: '/api/v1/orders', times: 1 });
      expectBody(await call('POST', '/clinic/deliveries', { key: 'outcome-hang', order: delivery() }), 504, 'order_outcome_unknown', { provider: 'scriptdrop' });
      expect((await t.app.get(FulfilmentService).findOrderByIdempotencyKey('outcome-500'))?.status).toBe('unknown');
    });
  });

  describe('provider failures: never the client’s 4xx unless the client can act on it', () => {
    it('the provider refuses the content: 422 with its message, scrubbed of the values we sent', async () => {
      const quoted = `recipient ${PATIENT_VALUES[0]} at ${PATIENT_VALUES[1]} is outside the delivery area`;
      sim.addFault({ kind: 'status', status: 400, method: 'POST', path: '/api/v1/orders', times: 1, body: { error: { message: quoted } } });
      const res = await call('POST', '/clinic/deliveries', { key: 'refused-400', order: delivery() });
      expectBody(res, 422, 'provider_validation', { provider: 'scriptdrop', providerMessage: 'recipient [REDACTED] at [REDACTED] is outside the delivery area' });
    });

    it('the provider refuses in the order’s state: 409 with its message', async () => {
      const order = await newDelivery();
      sim.addFault({ kind: 'status', status: 409, method: 'DELETE', path: '/api/v1/orders/:id', times: 1, body: { error: { message: 'Order is locked' } } });
      expectBody(await call('DELETE', `/clinic/orders/${order.id}`), 409, 'provider_conflict', { provider: 'scriptdrop', providerMessage: 'Order is locked' });
    });

    it('the provider does not know our order: 502 with its message', async () => {
      const order = await newDelivery();
      sim.addFault({ kind: 'status', status: 404, method: 'GET', path: '/api/v1/orders/:id', times: 1, body: { error: { message: 'Order not found' } } });
      expectBody(await call('POST', `/clinic/orders/${order.id}/refresh`), 502, 'provider_not_found', { provider: 'scriptdrop', providerMessage: 'Order not found' });
    });

    it('another provider 4xx: 502', async () => {
      const order = await newDelivery();
      sim.addFault({ kind: 'status', status: 410, method: 'GET', path: '/api/v1/orders/:id', times: 1, body: { error: { message: 'Gone' } } });
      expectBody(await call('POST', `/clinic/orders/${order.id}/refresh`), 502, 'provider_request', { provider: 'scriptdrop', providerMessage: 'Gone' });
    });

    it('the provider refuses our credentials: 502, without its message (which quoted the key)', async () => {
      const order = await newDelivery();
      const key = t.app.get(ProviderEndpoints).sandbox!.scriptdrop.apiKey;
      sim.addFault({ kind: 'status', status: 401, method: 'GET', path: '/api/v1/orders/:id', times: 1, body: { error: { message: `unknown key ${key}` } } });
      expectBody(await call('POST', `/clinic/orders/${order.id}/refresh`), 502, 'provider_auth', { provider: 'scriptdrop' });
    });

    it('rate limited: 503 with the provider’s Retry-After', async () => {
      const order = await newDelivery();
      sim.addFault({ kind: 'status', status: 429, retryAfter: 7, method: 'GET', path: '/api/v1/orders/:id', times: 1 });
      const res = await call('POST', `/clinic/orders/${order.id}/refresh`);
      expectBody(res, 503, 'provider_rate_limited', { provider: 'scriptdrop' });
      expect(res.retryAfter).toBe('7');
    });

    it('provider 503: 503 with its Retry-After; provider 500: 502', async () => {
      const order = await newDelivery();
      sim.addFault({ kind: 'status', status: 503, retryAfter: 3, method: 'GET', path: '/api/v1/orders/:id', times: 1 });
      const unavailable = await call('POST', `/clinic/orders/${order.id}/refresh`);
      expectBody(unavailable, 503, 'provider_unavailable', { provider: 'scriptdrop' });
      expect(unavailable.retryAfter).toBe('3');
      sim.addFault({ kind: 'status', status: 500, method: 'GET', path: '/api/v1/orders/:id', times: 1, body: { error: { message: 'at Repo.get (/srv/app.ex:12)' } } });
      const failed = await call('POST', `/clinic/orders/${order.id}/refresh`);
      expectBody(failed, 502, 'provider_unavailable', { provider: 'scriptdrop' });
      expect(failed.retryAfter).toBeNull();
    });

    it('no answer in time: 504', async () => {
      const order = await newDelivery();
      sim.addFault({ kind: 'hang', method: 'GET', path: '/api/v1/orders/:id', times: 1 });
      expectBody(await call('POST', `/clinic/orders/${order.id}/refresh`), 504, 'provider_timeout', { provider: 'scriptdrop' });
    });

    it('the connection breaks: 502', async () => {
      const order = await newDelivery();
      sim.addFault({ kind: 'reset', method: 'GET', path: '/api/v1/orders/:id', times: 1 });
      expectBody(await call('POST', `/clinic/orders/${order.id}/refresh`), 502, 'provider_network', { provider: 'scriptdrop' });
    });

    it('a 2xx we cannot read: 502', async () => {
      const order = await newDelivery();
      sim.addFault({ kind: 'status', status: 200, method: 'GET', path: '/api/v1/orders/:id', times: 1, body: { unexpected: true } });
      expectBody(await call('POST', `/clinic/orders/${order.id}/refresh`), 502, 'provider_invalid_response', { provider: 'scriptdrop' });
    });
  });

  describe('beside the host’s own error handling', () => {
    it('leaves other errors to Nest: an HttpException keeps its own answer', async () => {
      const res = await call('GET', '/clinic/teapot');
      expect(res.status).toBe(418);
      expect(res.body).toEqual({ statusCode: 418, message: 'short and stout' });
    });

    it('a host filter calling toHttpError() answers with the same status and body', async () => {
      const id = randomUUID();
      const [viaExported, viaOwn] = [await call('GET', `/clinic/orders/${id}`), await call('GET', `/own/orders/${id}`)];
      expect(viaOwn.status).toBe(viaExported.status);
      expect(viaOwn.body).toEqual({ ...viaExported.body, via: 'own filter' });
    });
  });
});
