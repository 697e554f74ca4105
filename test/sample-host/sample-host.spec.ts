import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import request from 'supertest';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import { AppModule } from '../../apps/sample-host/src/app.module.js';
import { configureApp } from '../../apps/sample-host/src/configure-app.js';
import { demoDeliveries, demoLocation, demoPatient, demoPrescription } from '../../apps/sample-host/src/demo-data.js';
import { FulfilmentService } from 'nestjs-fulfilment';
import { postgresUrl, testDatabaseKind } from '../support/test-database.js';

const ENV_KEYS = [
  'PORT', 'DATABASE_URL', 'CARYRX_BASE_URL', 'SCRIPTDROP_BASE_URL', 'FULFILMENT_WEBHOOK_SECRET', 'FULFILMENT_PUBLIC_URL',
  'FULFILMENT_SANDBOX_STEP_MS', 'FULFILMENT_SYNC_INTERVAL_MS', 'CARYRX_API_KEY',
];

/** A database URL of its own: a temporary SQLite file, or a fresh PostgreSQL schema via search_path. */
async function databaseUrl(): Promise<{ url: string; cleanup: () => Promise<void> }> {
  if (testDatabaseKind() === 'postgres') {
    const schema = `sample_host_${randomBytes(4).toString('hex')}`;
    const c = new pg.Client({ connectionString: postgresUrl() });
    await c.connect();
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.end();
    const sep = postgresUrl().includes('?') ? '&' : '?';
    return {
      url: `${postgresUrl()}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      cleanup: async () => {
        const d = new pg.Client({ connectionString: postgresUrl() });
        await d.connect();
        await d.query(`DROP SCHEMA "${schema}" CASCADE`);
        await d.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'sample-host-'));
  return { url: `sqlite:${join(dir, 'host.sqlite')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
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
  const saved = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
  let app: INestApplication;
  let url: string;
  let db: { url: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    db = await databaseUrl();
    for (const k of ENV_KEYS) delete process.env[k];
    // Listen first on a free port, then tell the module its public URL: callbacks come back here.
    process.env.DATABASE_URL = db.url;
    process.env.FULFILMENT_SANDBOX_STEP_MS = '200';
    process.env.FULFILMENT_SYNC_INTERVAL_MS = '1000';
    const probe = await NestFactory.create(AppModule, { logger: false });
    await probe.listen(0, '127.0.0.1');
    const port = (probe.getHttpServer().address() as { port: number }).port;
    await probe.close();
    process.env.FULFILMENT_PUBLIC_URL = `http://127.0.0.1:${port}`;
    app = configureApp(await NestFactory.create(AppModule, { logger: ['error'] }));
    await app.listen(port, '127.0.0.1');
    url = `http://127.0.0.1:${port}`;
    await app.get(FulfilmentService).caryrx.registerWebhooks();
  });

  afterAll(async () => {
    await app?.close();
    await db.cleanup();
    for (const k of ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('answers /health with the database check', async () => {
    const res = await request(url).get('/health').expect(200);
    expect(res.body.details.database.status).toBe('up');
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

  it('cancels a new delivery, and refuses a delivered one with the provider message', async () => {
    const created = await request(url).post('/checkout/scriptdrop').send({ reference: 'e2e-cancel', delivery: demoDeliveries.sameday() }).expect(201);
    const cancelled = await request(url).delete(`/orders/${created.body.id}`).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', providerStatus: 'cancelled' });

    const other = await request(url).post('/checkout/scriptdrop').send({ reference: 'e2e-late-cancel', delivery: demoDeliveries.sameday() }).expect(201);
    await waitFor(async () => (await request(url).get(`/orders/${other.body.id}`)).body, (o) => o.status === 'delivered', 'delivered');
    const refused = await request(url).delete(`/orders/${other.body.id}`).expect(409);
    expect(refused.body.message).toBe('Order is not in a cancellable status');
  });

  it('answers bad input with 400 naming the fields, and stores nothing', async () => {
    const bad = demoDeliveries.sameday();
    (bad.recipient.address as { zipcode: string }).zipcode = '123';
    (bad.pharmacy as { npi: string }).npi = '12';
    const res = await request(url).post('/checkout/scriptdrop').send({ reference: 'e2e-bad', delivery: bad }).expect(400);
    expect(res.body.fields.map((f: { path: string }) => f.path)).toEqual(
      expect.arrayContaining(['order.recipient.address.zipcode', 'order.pharmacy.npi']),
    );
    expect(JSON.stringify(res.body)).not.toContain('1230 Street');
    expect(await app.get(FulfilmentService).findOrderByIdempotencyKey('checkout:e2e-bad')).toBeNull();
    await request(url).post('/checkout/caryrx').send({ reference: 'x' }).expect(400);
    await request(url).get('/orders/not-a-uuid').expect(400);
    await request(url).get('/orders/00000000-0000-4000-8000-000000000000').expect(404);
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
