import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { join } from 'node:path';
import request from 'supertest';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { AppModule } from '../../apps/sample-host/src/app.module.js';
import { configureApp } from '../../apps/sample-host/src/configure-app.js';
import { demoDeliveries, demoLocation, demoPatient, demoPrescription } from '../../apps/sample-host/src/demo-data.js';
import { FulfilmentService, ProviderEndpoints } from 'nestjs-fulfilment';
import { createTestDatabaseUrl } from '../support/test-database.js';
import { LogLines } from '../support/log-lines.js';
import { sendRaw, type FullAnswer } from '../support/raw-http.js';
import { TEST_ADAPTERS } from '../support/test-app.js';
import { declaredMetrics, parsePrometheusText, sampleSum, type Sample } from '../support/prometheus-text.js';
import { startSampleHost } from '../support/sample-host.js';

const ENV_KEYS = [
  'PORT', 'DATABASE_URL', 'CARYRX_BASE_URL', 'SCRIPTDROP_BASE_URL', 'FULFILMENT_WEBHOOK_SECRET', 'FULFILMENT_PUBLIC_URL',
  'FULFILMENT_SANDBOX_STEP_MS', 'FULFILMENT_SYNC_INTERVAL_MS', 'CARYRX_API_KEY',
];

/** The sample host's environment as it is now, and a function that puts it back. */
function snapshotEnv(): () => void {
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  return () => {
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  };
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('sample host (sandbox, real HTTP)', () => {
  const restoreEnv = snapshotEnv();
  let app: INestApplication;
  let url: string;
  let db: { url: string; cleanup: () => Promise<void> };
  /** /metrics before the flows below. */
  let metricsBefore: Sample[];

  beforeAll(async () => {
    db = await createTestDatabaseUrl();
    for (const k of ENV_KEYS) delete process.env[k];
    process.env.DATABASE_URL = db.url;
    process.env.FULFILMENT_SANDBOX_STEP_MS = '200';
    process.env.FULFILMENT_SYNC_INTERVAL_MS = '1000';
    let port: number;
    ({ app, port } = await startSampleHost());
    url = `http://127.0.0.1:${port}`;
    metricsBefore = parsePrometheusText((await request(url).get('/metrics').expect(200)).text);
  });

  afterAll(async () => {
    await app?.close();
    await db.cleanup();
    restoreEnv();
  });

  it('answers /health with the database check and the fulfilment indicator', async () => {
    const res = await request(url).get('/health').expect(200);
    expect(res.body.details.database.status).toBe('up');
    expect(res.body.details.fulfilment).toMatchObject({ status: 'up', database: 'up' });
  });

  it('serves the OpenAPI document with the host routes and both webhook routes', async () => {
    const res = await request(url).get('/docs-json').expect(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/checkout/caryrx',
        '/checkout/scriptdrop',
        '/orders/{id}',
        '/health',
        '/fulfilment/webhooks/caryrx/prescriptions',
        '/fulfilment/webhooks/caryrx/orders',
      ]),
    );
    await request(url).get('/docs').expect(200);
  });

  it('a CaryRx checkout reaches delivered through webhooks, with its history', async () => {
    const res = await request(url)
      .post('/checkout/caryrx')
      .send({
        reference: 'e2e-caryrx-1',
        patientReference: 'e2e-patient-1',
        patient: demoPatient,
        location: demoLocation,
        simulatePrescription: demoPrescription,
      })
      .expect(201);
    expect(res.body).toMatchObject({ provider: 'caryrx', status: 'accepted', providerStatus: 'pending', reference: 'e2e-caryrx-1' });
    const done = await waitFor(
      async () => (await request(url).get(`/orders/${res.body.id}`).expect(200)).body,
      (o) => o.status === 'delivered',
      'CaryRx order delivered',
    );
    expect(done.history.map((h: { to: string }) => h.to)).toEqual(['created', 'accepted', 'accepted', 'accepted', 'in_transit', 'delivered']);
    expect(done.history.filter((h: { source: string }) => h.source === 'webhook').length).toBeGreaterThan(0);
    // The same checkout reference again: the same order, nothing sent twice.
    const again = await request(url)
      .post('/checkout/caryrx')
      .send({ reference: 'e2e-caryrx-1', patientReference: 'e2e-patient-1', patient: demoPatient, location: demoLocation, prescriptionIds: ['abc1234567'] })
      .expect(201);
    expect(again.body.id).toBe(res.body.id);
  });

  it('ScriptDrop checkouts of every service level reach delivered through the sync', async () => {
    const ids: string[] = [];
    for (const level of ['sameday', 'ondemand', 'shipping'] as const) {
      const res = await request(url)
        .post('/checkout/scriptdrop')
        .send({ reference: `e2e-sd-${level}`, delivery: demoDeliveries[level]() })
        .expect(201);
      expect(res.body).toMatchObject({ provider: 'scriptdrop', status: 'accepted', providerStatus: 'new' });
      ids.push(res.body.id);
    }
    for (const id of ids) {
      const done = await waitFor(async () => (await request(url).get(`/orders/${id}`).expect(200)).body, (o) => o.status === 'delivered', `delivery ${id}`);
      expect(done.history.at(-1)).toMatchObject({ to: 'delivered', source: 'sync' });
    }
  });

  it('cancels a new delivery, and refuses a delivered one locally with the documented 409', async () => {
    const created = await request(url).post('/checkout/scriptdrop').send({ reference: 'e2e-cancel', delivery: demoDeliveries.sameday() }).expect(201);
    const cancelled = await request(url).delete(`/orders/${created.body.id}`).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', providerStatus: 'cancelled' });

    const other = await request(url).post('/checkout/scriptdrop').send({ reference: 'e2e-late-cancel', delivery: demoDeliveries.sameday() }).expect(201);
    await waitFor(async () => (await request(url).get(`/orders/${other.body.id}`)).body, (o) => o.status === 'delivered', 'delivered');
    const refused = await request(url).delete(`/orders/${other.body.id}`).expect(409);
    expect(refused.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      type: 'order_state_conflict',
      message: `ScriptDrop order ${other.body.id} is already delivered: a terminal order cannot be cancelled`,
    });
  });

  it('answers bad input with 400 naming the fields, and stores nothing', async () => {
    const bad = demoDeliveries.sameday();
    (bad.recipient.address as { zipcode: string }).zipcode = '123';
    (bad.pharmacy as { npi: string }).npi = '12';
    const res = await request(url).post('/checkout/scriptdrop').send({ reference: 'e2e-bad', delivery: bad }).expect(400);
    expect(res.body.fields).toEqual(
      expect.arrayContaining([
        { path: 'delivery.recipient.address.zipcode', message: 'must be 5 or 9 digits' },
        { path: 'delivery.pharmacy.npi', message: 'must be exactly 10 digits' },
      ]),
    );
    expect(JSON.stringify(res.body)).not.toContain('1230 Street');
    expect(await app.get(FulfilmentService).findOrderByIdempotencyKey('checkout:e2e-bad')).toBeNull();
    await request(url).post('/checkout/caryrx').send({ reference: 'x' }).expect(400);
    const badId = await request(url).get('/orders/not-a-uuid').expect(400);
    expect(badId.body).toMatchObject({ statusCode: 400, type: 'invalid_input', fields: [{ path: 'id', message: 'must be a UUID' }] });
    const missing = await request(url).get('/orders/00000000-0000-4000-8000-000000000000').expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404, error: 'Not Found', type: 'not_found' });
  });

  it('serves /metrics: the metrics of the module with their labels, moved by the flows above', async () => {
    const res = await request(url).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(declaredMetrics(res.text)).toMatchObject({
      fulfilment_webhooks_received_total: 'counter',
      fulfilment_webhook_ingestion_duration_seconds: 'histogram',
      fulfilment_provider_requests_total: 'counter',
      fulfilment_provider_request_duration_seconds: 'histogram',
      fulfilment_provider_retries_total: 'counter',
      fulfilment_sync_ticks_total: 'counter',
      fulfilment_sync_tick_duration_seconds: 'histogram',
      fulfilment_sync_orders_claimed_total: 'counter',
      fulfilment_sync_orders_changed_total: 'counter',
      fulfilment_sync_orders_failed_total: 'counter',
      fulfilment_orders_open: 'gauge',
      fulfilment_sync_oldest_due_order_age_seconds: 'gauge',
      fulfilment_events_undelivered: 'gauge',
    });
    const after = parsePrometheusText(res.text);
    const moved = (name: string, labels: Record<string, string>) => sampleSum(after, name, labels) - sampleSum(metricsBefore, name, labels);
    // The CaryRx order moved by webhooks, the deliveries by the sync, each call to a simulator counted.
    expect(moved('fulfilment_webhooks_received_total', { provider: 'caryrx', topic: 'caryrx.order', outcome: 'applied' })).toBeGreaterThanOrEqual(3);
    expect(moved('fulfilment_webhook_ingestion_duration_seconds_count', { provider: 'caryrx', topic: 'caryrx.order' })).toBeGreaterThanOrEqual(3);
    expect(moved('fulfilment_provider_requests_total', { provider: 'caryrx', operation: 'create_order' })).toBe(1);
    expect(moved('fulfilment_provider_requests_total', { provider: 'scriptdrop', operation: 'create_order' })).toBe(5);
    expect(moved('fulfilment_provider_requests_total', { provider: 'scriptdrop', operation: 'cancel_order', status: '204' })).toBe(1);
    expect(moved('fulfilment_provider_requests_total', { provider: 'scriptdrop', operation: 'get_orders', status: '200' })).toBeGreaterThan(0);
    expect(moved('fulfilment_sync_ticks_total', { outcome: 'completed' })).toBeGreaterThan(0);
    expect(moved('fulfilment_sync_orders_claimed_total', {})).toBeGreaterThan(0);
    expect(moved('fulfilment_sync_orders_changed_total', {})).toBeGreaterThanOrEqual(4);
    // Every delivery is delivered or cancelled by now: no open ScriptDrop order.
    expect(sampleSum(after, 'fulfilment_orders_open', { provider: 'scriptdrop' })).toBe(0);
    expect(after.filter((s) => s.name === 'fulfilment_sync_oldest_due_order_age_seconds')).toHaveLength(1);
    expect(after.filter((s) => s.name === 'fulfilment_events_undelivered')).toHaveLength(1);
    // No label value is an id: the orders above have UUIDs and provider ids.
    expect(after.filter((s) => Object.values(s.labels).some((v) => /[0-9a-f]{8}-[0-9a-f]{4}-/i.test(v) || /^\d{5,}$/.test(v)))).toEqual([]);
  });
});

const WEBHOOK_SECRET = 'sample-host-webhook-secret-01';

describe('sample host: validation answers a client can act on (real HTTP)', () => {
  const restoreEnv = snapshotEnv();
  let app: INestApplication;
  let url: string;
  let db: { url: string; cleanup: () => Promise<void> };
  /** Requests the simulated providers received: a refused body sends none. */
  let sent: () => number;

  beforeAll(async () => {
    db = await createTestDatabaseUrl();
    for (const k of ENV_KEYS) delete process.env[k];
    process.env.DATABASE_URL = db.url;
    process.env.FULFILMENT_WEBHOOK_SECRET = WEBHOOK_SECRET;
    app = configureApp(await NestFactory.create(AppModule, { logger: ['error'] }));
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const sandbox = app.get(ProviderEndpoints).sandbox!;
    sent = () => sandbox.caryrx.requests.length + sandbox.scriptdrop.requests.length;
  });

  afterAll(async () => {
    await app?.close();
    await db.cleanup();
    restoreEnv();
  });

  /** POSTs `body`; expects 400 and answers its `fields`, after checking nothing reached a provider. */
  async function refused(path: string, body: object): Promise<Array<{ path: string; message: string }>> {
    const before = sent();
    const res = await request(url).post(path).send(body);
    expect({ status: res.status, type: res.body.type }).toEqual({ status: 400, type: 'invalid_input' });
    expect(sent()).toBe(before);
    // Each path once.
    const paths = res.body.fields.map((f: { path: string }) => f.path);
    expect(new Set(paths).size).toBe(paths.length);
    return res.body.fields;
  }

  it('a CaryRx checkout: patient and location problems together, each by its path in the body, with the first rule broken', async () => {
    const fields = await refused('/checkout/caryrx', {
      reference: 'v-1',
      patientReference: 'v-patient-1',
      patient: { ...demoPatient, firstName: undefined, dob: '01/02/2000', phoneNumber: 5 },
      location: { ...demoLocation, zip: '123', latitude: 'north' },
      simulatePrescription: { ...demoPrescription, qtyWritten: 0 },
      shippingMethod: 'teleport',
      coupon: 'SAVE10',
    });
    expect(fields).toEqual(
      expect.arrayContaining([
        { path: 'coupon', message: 'is not a known field' },
        { path: 'patient.firstName', message: 'is required' },
        { path: 'patient.dob', message: 'must be a real date as YYYY-MM-DD, not in the future' },
        { path: 'patient.phoneNumber', message: 'must be 10 digits' },
        { path: 'location.zip', message: 'must be 5 or 9 digits' },
        { path: 'location.latitude', message: 'must be a number' },
        { path: 'simulatePrescription.qtyWritten', message: 'must be at least 1' },
        { path: 'shippingMethod', message: 'must be one of sameday_delivery, 2day_mailorder' },
      ]),
    );
    expect(fields).toHaveLength(8);
  });

  it('a CaryRx checkout missing its parts: each named once, "is required"', async () => {
    expect(await refused('/checkout/caryrx', { reference: 'v-2' })).toEqual([
      { path: 'patientReference', message: 'is required' },
      { path: 'patient', message: 'is required' },
      { path: 'location', message: 'is required' },
    ]);
  });

  it('a ScriptDrop checkout: nested and array fields by their path under `delivery`', async () => {
    const delivery = demoDeliveries.sameday();
    const rx = delivery.prescriptions[0] as unknown as Record<string, unknown>;
    rx.ndc = 69618001436;
    (rx.payers as Array<Record<string, unknown>>)[0].bin = undefined;
    (delivery.patient as { dateOfBirth: string }).dateOfBirth = '2999-01-01';
    const fields = await refused('/checkout/scriptdrop', { reference: 'v-3', delivery: { ...delivery, deliveryWindow: 'am' } });
    expect(fields).toEqual(
      expect.arrayContaining([
        { path: 'delivery.deliveryWindow', message: 'is not a known field' },
        { path: 'delivery.patient.dateOfBirth', message: 'must be an ISO 8601 date (YYYY-MM-DD), not in the future' },
        { path: 'delivery.prescriptions[0].ndc', message: 'must be exactly 11 digits' },
        { path: 'delivery.prescriptions[0].payers[0].bin', message: 'is required' },
      ]),
    );
    expect(fields).toHaveLength(4);
  });

  it('a rule only the module call can check is named from the body too', async () => {
    // externalReferenceNumber must equal the idempotency key, which the host derives from `reference`.
    const fields = await refused('/checkout/scriptdrop', { reference: 'v-4', delivery: { ...demoDeliveries.sameday(), externalReferenceNumber: 'other' } });
    expect(fields).toEqual([{ path: 'delivery.externalReferenceNumber', message: expect.stringMatching(/^must be left out or equal idempotencyKey/) }]);
  });

  describe('/docs-json', () => {
    type Schema = { $ref?: string; allOf?: Schema[]; properties?: Record<string, Schema>; required?: string[]; items?: Schema; [k: string]: unknown };
    let doc: { paths: Record<string, { post: Record<string, any> }>; components: { schemas: Record<string, Schema> } };
    /** A schema with its `$ref` (or `allOf: [$ref]`) followed. */
    const resolve = (schema: Schema): Schema => {
      const ref = schema.$ref ?? schema.allOf?.[0]?.$ref;
      return ref ? resolve(doc.components.schemas[ref.replace('#/components/schemas/', '')]) : schema;
    };
    const bodyOf = (path: string) => resolve(doc.paths[path].post.requestBody.content['application/json'].schema);

    beforeAll(async () => {
      doc = (await request(url).get('/docs-json').expect(200)).body;
    });

    it.each(['orders', 'prescriptions'])('the %s webhook: its body schema, the token parameter and every answer, with examples', (topic) => {
      const route = doc.paths[`/fulfilment/webhooks/caryrx/${topic}`].post;
      expect(route.parameters).toEqual([expect.objectContaining({ name: 'token', in: 'query', required: true, schema: { type: 'string' } })]);
      const body = bodyOf(`/fulfilment/webhooks/caryrx/${topic}`);
      expect(body.required).toEqual(topic === 'orders' ? ['id', 'order_status'] : ['id']);
      expect(body.properties!.id).toMatchObject({ type: 'string', minLength: 1, maxLength: 64 });
      expect(resolve(body.properties!.patient).properties!.id).toMatchObject({ type: 'string' });
      if (topic === 'orders') {
        expect(resolve(body.properties!.prescriptions.items!).properties).toMatchObject({ id: { type: 'string' }, is_refill: { type: 'boolean' } });
        expect(body.properties!.updated_at).toMatchObject({ type: 'string', format: 'date-time' });
      } else {
        expect(body.properties!.qty_written).toMatchObject({ type: 'number' });
        expect(resolve(body.properties!.prescriber).properties!.prescriber_name).toMatchObject({ type: 'string' });
      }
      for (const status of ['200', '400', '401', '413', '415']) {
        const examples = route.responses[status]?.content?.['application/json']?.examples;
        expect({ status, examples: Object.keys(examples ?? {}).length > 0 }).toEqual({ status, examples: true });
      }
    });

    it('the webhook examples are what the route answers', async () => {
      const route = `/fulfilment/webhooks/caryrx/orders`;
      const example = (status: string, name: string) => doc.paths[route].post.responses[status].content['application/json'].examples[name].value;
      const post = (query: string, contentType: string, body: string) => request(url).post(`${route}?${query}`).set('content-type', contentType).send(body);
      expect((await post('token=wrong', 'application/json', '{}')).body).toEqual(example('401', 'token'));
      expect((await post(`token=${WEBHOOK_SECRET}`, 'text/plain', '{}')).body).toEqual(example('415', 'notJson'));
      expect((await post(`token=${WEBHOOK_SECRET}`, 'application/json', '{"id":')).body).toEqual(example('400', 'json'));
      expect((await post(`token=${WEBHOOK_SECRET}`, 'application/json', '{"id":42,"order_status":"pending"}')).body).toEqual(example('400', 'field'));
      expect((await post(`token=${WEBHOOK_SECRET}`, 'application/json', JSON.stringify({ id: 'x', order_status: 'p', pad: 'x'.repeat(70_000) }))).body).toEqual(
        example('413', 'tooLarge'),
      );
    });

    it('the checkout bodies show the nested schemas of patient, location and delivery', () => {
      const caryrx = bodyOf('/checkout/caryrx');
      expect(caryrx.required).toEqual(expect.arrayContaining(['reference', 'patientReference', 'patient', 'location']));
      const patient = resolve(caryrx.properties!.patient);
      expect(patient.required).toEqual(['firstName', 'lastName', 'dob']);
      expect(patient.properties).toMatchObject({ firstName: { type: 'string', maxLength: 100 }, dob: { type: 'string', format: 'date' }, phoneNumber: { pattern: '^\\d{10}$' } });
      expect(resolve(caryrx.properties!.location).properties).toMatchObject({ zip: { type: 'string' }, latitude: { type: 'number', minimum: -90, maximum: 90 } });
      expect(Object.keys(resolve(caryrx.properties!.simulatePrescription).properties!)).toEqual(['medicationName', 'qtyWritten', 'refillsWritten', 'daysSupply', 'data']);

      const delivery = resolve(bodyOf('/checkout/scriptdrop').properties!.delivery);
      expect(delivery.required).toEqual(['pharmacy', 'recipient', 'patient', 'prescriptions']);
      expect(resolve(delivery.properties!.pharmacy).properties).toMatchObject({ npi: { type: 'string', pattern: '^\\d{10}$' } });
      expect(resolve(resolve(delivery.properties!.recipient).properties!.address).properties).toMatchObject({ zipcode: { type: 'string' } });
      const prescription = resolve(delivery.properties!.prescriptions.items!);
      expect(prescription.properties).toMatchObject({ ndc: { pattern: '^\\d{11}$' }, refrigeration: { enum: expect.any(Array) } });
      expect(resolve(prescription.properties!.payers.items!).required).toEqual(expect.arrayContaining(['bin', 'pcn', 'coverageType']));
      // A rule with no schema keyword is in the description.
      expect(delivery.properties!.readyAt).toMatchObject({ format: 'date-time', description: expect.stringContaining('required for service level ondemand') });
    });
  });

  it('a body nested far deeper than any documented shape is a 400 naming where, not a 500', async () => {
    const before = sent();
    const deep = `${'{"a":'.repeat(15_000)}1${'}'.repeat(15_000)}`;
    const res = await request(url).post('/checkout/scriptdrop').set('content-type', 'application/json').send(`{"reference":"v-6","delivery":${deep}}`);
    expect(res.status).toBe(400);
    expect(res.body.fields).toEqual([{ path: `delivery${'.a'.repeat(31)}`, message: 'must not nest deeper than 32 levels' }]);
    expect(sent()).toBe(before);
  });

  it('a body key that is not a plain name is refused as unknown, not a 500', async () => {
    expect(await refused('/checkout/scriptdrop', { reference: 'v-5', delivery: demoDeliveries.sameday(), '(': 1 })).toEqual([{ path: '(', message: 'is not a known field' }]);
  });
});

describe.each(TEST_ADAPTERS)('sample host on %s: the webhook prefix never repeats the token (real HTTP)', (adapter) => {
  const restoreEnv = snapshotEnv();
  const logs = new LogLines();
  let app: INestApplication;
  let url: string;
  let db: { url: string; cleanup: () => Promise<void> };
  const ROUTES = ['/fulfilment/webhooks/caryrx/orders', '/fulfilment/webhooks/caryrx/prescriptions'];
  const noSecret = (res: FullAnswer) => expect(JSON.stringify({ headers: res.headers, text: res.text })).not.toContain(WEBHOOK_SECRET);

  beforeAll(async () => {
    db = await createTestDatabaseUrl();
    for (const k of ENV_KEYS) delete process.env[k];
    process.env.DATABASE_URL = db.url;
    process.env.FULFILMENT_WEBHOOK_SECRET = WEBHOOK_SECRET;
    // configureApp's Swagger UI needs @fastify/static on Fastify, which the sample host does not install.
    app =
      adapter === 'express'
        ? configureApp(await NestFactory.create(AppModule, { logger: logs }))
        : await NestFactory.create(AppModule, new FastifyAdapter(), { logger: logs });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await db.cleanup();
    restoreEnv();
  });

  it.each(ROUTES)('%s: GET, PUT, DELETE and PATCH with ?token=<secret> are 405 (Allow: POST), a fixed body', async (route) => {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      const res = await sendRaw(method, `${url}${route}?token=${WEBHOOK_SECRET}`, { body: method === 'GET' ? undefined : '{}' });
      expect({ method, status: res.status, allow: res.headers.allow, body: res.body }).toEqual({
        method,
        status: 405,
        allow: 'POST',
        body: { statusCode: 405, error: 'Method Not Allowed', message: 'webhook routes accept only POST' },
      });
      noSecret(res);
    }
  });

  it('unknown paths under the prefix, and a token in the path, are 404 with a fixed body', async () => {
    const paths = [
      `/fulfilment/webhooks/caryrx/orders/x?token=${WEBHOOK_SECRET}`,
      `/fulfilment/webhooks/nope?token=${WEBHOOK_SECRET}`,
      `/fulfilment/webhooks/caryrx/orders/${WEBHOOK_SECRET}`,
    ];
    for (const path of paths) {
      for (const method of ['GET', 'POST']) {
        const res = await sendRaw(method, `${url}${path}`, { body: method === 'POST' ? '{"id":' : undefined });
        expect({ status: res.status, body: res.body }).toEqual({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'no webhook route here' } });
        noSecret(res);
      }
    }
  });

  it.each(ROUTES)('%s: a wrong token is 401 before the body is parsed (malformed JSON, 200 KB)', async (route) => {
    for (const body of ['{"id":', JSON.stringify({ id: 'x', pad: 'x'.repeat(200_000) })]) {
      const res = await sendRaw('POST', `${url}${route}?token=wrong-token-wrong-token`, { body });
      expect({ status: res.status, message: res.body.message }).toEqual({ status: 401, message: 'invalid or missing webhook token' });
    }
  });

  it('no log line repeats the secret', () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.lines.filter((line) => line.includes(WEBHOOK_SECRET))).toEqual([]);
  });
});

describe('sample host configuration', () => {
  it('refuses to start outside sandbox without FULFILMENT_WEBHOOK_SECRET, with a clear message', async () => {
    const saved = { ...process.env };
    process.env.CARYRX_BASE_URL = 'http://127.0.0.1:9';
    process.env.CARYRX_API_KEY = 'k';
    delete process.env.FULFILMENT_WEBHOOK_SECRET;
    process.env.DATABASE_URL = 'sqlite::memory:';
    try {
      await expect(NestFactory.create(AppModule, { logger: false, abortOnError: false })).rejects.toThrow(
        'FULFILMENT_WEBHOOK_SECRET is required when CARYRX_BASE_URL or SCRIPTDROP_BASE_URL is set',
      );
    } finally {
      process.env = saved;
    }
  });
});
