import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { Controller, Get, Header, Inject, Module, type DynamicModule } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Registry, register as globalRegister } from 'prom-client';
import { FulfilmentHealthIndicator, FulfilmentOrder, FulfilmentService, ProviderEndpoints, StatusSyncService } from 'nestjs-fulfilment';
import { OPEN_ORDER_CONDITION } from '../../libs/fulfilment/src/orders/entities/fulfilment-order.entity.js';
import { TERMINAL_STATUSES } from '../../libs/fulfilment/src/orders/order-state-machine.js';
import { demoDeliveries } from '../../apps/sample-host/src/demo-data.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { declaredMetrics, parsePrometheusText, sampleSum, type Sample } from '../support/prometheus-text.js';

const REGISTRY = Symbol('test metrics registry');

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly fulfilment: FulfilmentHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.fulfilment.isHealthy('fulfilment')]);
  }
}

@Controller('metrics')
class MetricsController {
  constructor(@Inject(REGISTRY) private readonly registry: Registry) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}

/** What a host adds: its health check with the module's indicator, and /metrics of its registry. */
const observability = (registry: Registry): DynamicModule => {
  @Module({})
  class ObservabilityModule {}
  return {
    module: ObservabilityModule,
    imports: [TerminusModule],
    controllers: [HealthController, MetricsController],
    providers: [{ provide: REGISTRY, useValue: registry }],
  };
};

/** Every metric the module registers, with its type and label names. */
const METRICS: Record<string, { type: string; labels: string[] }> = {
  fulfilment_webhooks_received_total: { type: 'counter', labels: ['provider', 'topic', 'outcome'] },
  fulfilment_webhook_ingestion_duration_seconds: { type: 'histogram', labels: ['provider', 'topic'] },
  fulfilment_provider_requests_total: { type: 'counter', labels: ['provider', 'operation', 'status'] },
  fulfilment_provider_request_duration_seconds: { type: 'histogram', labels: ['provider', 'operation'] },
  fulfilment_provider_retries_total: { type: 'counter', labels: ['provider', 'operation'] },
  fulfilment_sync_ticks_total: { type: 'counter', labels: ['outcome'] },
  fulfilment_sync_tick_duration_seconds: { type: 'histogram', labels: ['outcome'] },
  fulfilment_sync_orders_claimed_total: { type: 'counter', labels: [] },
  fulfilment_sync_orders_changed_total: { type: 'counter', labels: [] },
  fulfilment_sync_orders_failed_total: { type: 'counter', labels: [] },
  fulfilment_orders_open: { type: 'gauge', labels: ['provider', 'status'] },
  fulfilment_sync_oldest_due_order_age_seconds: { type: 'gauge', labels: [] },
  fulfilment_events_undelivered: { type: 'gauge', labels: [] },
};

/** The sample's metric: a histogram's `_bucket`, `_sum` and `_count` belong to it. */
const metricOf = ({ name }: Sample): string => (METRICS[name] ? name : name.replace(/_(bucket|sum|count)$/, ''));

const WEBHOOK_SECRET = 'metrics-test-webhook-secret-1';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

describe('metrics and health over real HTTP (sandbox, sync stopped)', () => {
  const registry = new Registry();
  let t: TestApp;
  let deliveryId: string;
  let providerOrderId: string;

  const scrape = async (url = t.url): Promise<{ text: string; samples: Sample[] }> => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    return { text, samples: parsePrometheusText(text) };
  };
  const health = async (): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${t.url}/health`);
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    t = await createTestApp(
      { sandbox: { stepMs: 0 }, webhooks: { secret: WEBHOOK_SECRET }, sync: { enabled: false }, metrics: { registry }, isGlobal: true },
      { imports: [observability(registry)] },
    );
  });

  afterAll(async () => {
    await t?.close();
  });

  it('lists every metric with its labels, and the counters move with webhooks, provider calls, retries and sync ticks', async () => {
    const before = await scrape();
    expect(declaredMetrics(before.text)).toEqual(Object.fromEntries(Object.entries(METRICS).map(([name, { type }]) => [name, type])));
    const fulfilment = t.app.get(FulfilmentService);

    // Webhooks: both registrations' test payloads (outcome `test`), then one refused for its token.
    await fulfilment.caryrx.registerWebhooks({ publicUrl: t.url });
    const refused = await fetch(`${t.url}/fulfilment/webhooks/caryrx/orders?token=wrong-token-000000`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'x', order_status: 'pending' }),
    });
    expect(refused.status).toBe(401);

    // A provider call, then a sync tick whose multi-get is answered 503 once and retried.
    const { order } = await fulfilment.scriptdrop.createDelivery({ idempotencyKey: 'metrics-1', order: demoDeliveries.sameday() });
    deliveryId = order.id;
    providerOrderId = order.providerOrderId!;
    t.app.get(ProviderEndpoints).sandbox!.scriptdrop.addFault({ kind: 'status', status: 503, method: 'GET', path: '/api/v1/orders', times: 1 });
    await t.dataSource.createQueryBuilder().update(FulfilmentOrder).set({ nextSyncAt: new Date(Date.now() - 1000) }).where('id = :id', { id: deliveryId }).execute();
    const tick = await t.app.get(StatusSyncService).runOnce();
    expect(tick).toMatchObject({ claimed: 1, fetched: 1, failed: 0 });

    const after = await scrape();
    const moved = (name: string, labels: Record<string, string> = {}) => sampleSum(after.samples, name, labels) - sampleSum(before.samples, name, labels);
    expect({
      testPayloads: moved('fulfilment_webhooks_received_total', { provider: 'caryrx', outcome: 'test' }),
      unauthorized: moved('fulfilment_webhooks_received_total', { provider: 'caryrx', topic: 'caryrx.order', outcome: 'unauthorized' }),
      ingested: moved('fulfilment_webhook_ingestion_duration_seconds_count', { provider: 'caryrx' }),
      registrations: moved('fulfilment_provider_requests_total', { provider: 'caryrx', operation: 'register_order_webhook' }),
      creates: moved('fulfilment_provider_requests_total', { provider: 'scriptdrop', operation: 'create_order' }),
      unavailable: moved('fulfilment_provider_requests_total', { provider: 'scriptdrop', operation: 'get_orders', status: '503' }),
      reads: moved('fulfilment_provider_requests_total', { provider: 'scriptdrop', operation: 'get_orders', status: '200' }),
      retries: moved('fulfilment_provider_retries_total', { provider: 'scriptdrop', operation: 'get_orders' }),
      timed: moved('fulfilment_provider_request_duration_seconds_count', { provider: 'scriptdrop', operation: 'get_orders' }),
      ticks: moved('fulfilment_sync_ticks_total', { outcome: 'completed' }),
      tickDurations: moved('fulfilment_sync_tick_duration_seconds_count', { outcome: 'completed' }),
      claimed: moved('fulfilment_sync_orders_claimed_total'),
    }).toEqual({
      testPayloads: 2,
      unauthorized: 1,
      ingested: 2,
      registrations: 1,
      creates: 1,
      unavailable: 1,
      reads: 1,
      retries: 1,
      timed: 2,
      ticks: 1,
      tickDurations: 1,
      claimed: 1,
    });
    // Read from the database at scrape time: the open delivery, zero for the other open statuses.
    expect(sampleSum(after.samples, 'fulfilment_orders_open', { provider: 'scriptdrop', status: 'accepted' })).toBe(1);
    expect(sampleSum(after.samples, 'fulfilment_orders_open', { provider: 'caryrx', status: 'in_transit' })).toBe(0);
    expect(after.samples.filter((s) => s.name === 'fulfilment_orders_open' && TERMINAL_STATUSES.has(s.labels.status as never))).toEqual([]);

    // Labels: the declared names only, and no value that is an id.
    for (const sample of after.samples) {
      const metric = METRICS[metricOf(sample)];
      expect({ sample: sample.name, labels: Object.keys(sample.labels).filter((l) => l !== 'le').sort() }).toEqual({ sample: sample.name, labels: [...metric.labels].sort() });
      for (const value of Object.values(sample.labels)) {
        expect({ sample: sample.name, value, id: UUID.test(value) || value === providerOrderId || value === deliveryId }).toEqual({ sample: sample.name, value, id: false });
      }
    }
  });

  it('health is down while the sync is stopped and an order waits past the limit, and up once a tick read it', async () => {
    // The registrations of the first test are confirmed: up.
    const up = await health();
    expect(up.status).toBe(200);
    expect(up.body.details.fulfilment).toMatchObject({
      status: 'up',
      database: 'up',
      syncLagSeconds: 0,
      webhooks: { 'caryrx.orders': 'confirmed', 'caryrx.prescriptions': 'confirmed' },
    });

    // Due an hour ago, and no sync running to read it.
    await t.dataSource.createQueryBuilder().update(FulfilmentOrder).set({ nextSyncAt: new Date(Date.now() - 3_600_000) }).where('id = :id', { id: deliveryId }).execute();
    const behind = await health();
    expect(behind.status).toBe(503);
    expect(behind.body.status).toBe('error');
    expect(behind.body.error.fulfilment).toMatchObject({ status: 'down', database: 'up', message: expect.stringContaining('the status sync is behind') });
    expect(behind.body.error.fulfilment.syncLagSeconds).toBeGreaterThanOrEqual(3600);
    expect(sampleSum((await scrape()).samples, 'fulfilment_sync_oldest_due_order_age_seconds')).toBeGreaterThanOrEqual(3600);

    await t.app.get(StatusSyncService).runOnce();
    expect((await health()).status).toBe(200);
    expect(sampleSum((await scrape()).samples, 'fulfilment_sync_oldest_due_order_age_seconds')).toBe(0);
  });

  it('a webhook registration whose test payload never came is down after the grace period, named without its URL', async () => {
    const indicator = t.app.get(FulfilmentHealthIndicator);
    // Re-registered with a callback nobody answers: unconfirmed again.
    await t.app.get(FulfilmentService).caryrx.registerWebhooks({ publicUrl: 'http://127.0.0.1:9' });
    expect((await indicator.isHealthy('fulfilment')).fulfilment).toMatchObject({ status: 'up', webhooks: { 'caryrx.orders': 'awaiting_test_payload' } });
    const result = await indicator.isHealthy('fulfilment', { registrationGraceMs: 0 });
    expect(result.fulfilment).toMatchObject({ status: 'down', webhooks: { 'caryrx.orders': 'unconfirmed', 'caryrx.prescriptions': 'unconfirmed' } });
    expect(result.fulfilment.message).toContain('caryrx.orders');
    expect(JSON.stringify(result)).not.toContain('127.0.0.1');
    expect(JSON.stringify(result)).not.toContain(WEBHOOK_SECRET);
    // Back to a callback that answers, for what follows.
    await t.app.get(FulfilmentService).caryrx.registerWebhooks({ publicUrl: t.url });
  });

  it('a second module instance on the same registry boots beside the first, and closing it leaves the first one scraped', async () => {
    const second = await createTestApp(
      { sandbox: { stepMs: 0 }, webhooks: { secret: WEBHOOK_SECRET }, sync: { enabled: false }, metrics: { registry }, isGlobal: true },
      { imports: [observability(registry)] },
    );
    try {
      expect(sampleSum((await scrape(second.url)).samples, 'fulfilment_sync_ticks_total')).toBeGreaterThan(0);
    } finally {
      await second.close();
    }
    // The first app's database is read: its open delivery is counted.
    expect(sampleSum((await scrape()).samples, 'fulfilment_orders_open', { provider: 'scriptdrop', status: 'accepted' })).toBe(1);
  });

  it('metrics: false registers nothing (not even in the global registry)', async () => {
    const off = await createTestApp({ sandbox: { stepMs: 0 }, sync: { enabled: false }, metrics: false });
    try {
      await off.app.get(FulfilmentService).scriptdrop.createDelivery({ idempotencyKey: 'metrics-off', order: demoDeliveries.sameday() });
      expect((await globalRegister.getMetricsAsJSON()).filter((m) => m.name.startsWith('fulfilment_'))).toEqual([]);
    } finally {
      await off.close();
    }
  });

  it('the open-orders index condition lists exactly the terminal statuses', () => {
    const listed = [...OPEN_ORDER_CONDITION.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort();
    expect(listed).toEqual([...TERMINAL_STATUSES].sort());
  });
});
