import { Logger, type OnModuleDestroy } from '@nestjs/common';
import type * as PromClient from 'prom-client';
import type { MetricsRegistry } from '../fulfilment.options.js';
import type { ProviderName } from '../http/provider-errors.js';
import type { ProviderAttemptRecord, ProviderCallObserver } from '../http/provider-http-client.js';
import { FULFILMENT_STATUSES, isTerminal } from '../orders/order-state-machine.js';
import type { OrderStore } from '../orders/order-store.js';
import type { SyncObserver, SyncTickReport } from '../sync/status-sync.service.js';
import type { WebhookObserver } from '../webhooks/webhook-inbox.js';

type PromClientModule = typeof PromClient;

const OPEN_STATUSES = FULFILMENT_STATUSES.filter((s) => !isTerminal(s));

/** Where the database gauges are read at scrape time: one module instance's store and synced providers. */
export interface MetricsDatabaseSource {
  store: Pick<OrderStore, 'countOpenOrders' | 'oldestDueSyncAt' | 'countUndeliveredEvents'>;
  providers: ProviderName[];
}

/**
 * The module's metrics in one registry. Every label value is from a fixed set (providers, topics,
 * outcomes, operation names, HTTP statuses, normalised statuses): never an id.
 */
class MetricSet {
  private readonly logger = new Logger('Fulfilment:Metrics');
  /** Module instances registered on this registry; the database gauges read the first still running. */
  readonly sources = new Set<MetricsDatabaseSource>();

  readonly webhooksReceived: PromClient.Counter<'provider' | 'topic' | 'outcome'>;
  readonly webhookIngestion: PromClient.Histogram<'provider' | 'topic'>;
  readonly providerRequests: PromClient.Counter<'provider' | 'operation' | 'status'>;
  readonly providerRequestDuration: PromClient.Histogram<'provider' | 'operation'>;
  readonly providerRetries: PromClient.Counter<'provider' | 'operation'>;
  readonly syncTicks: PromClient.Counter<'outcome'>;
  readonly syncTickDuration: PromClient.Histogram<'outcome'>;
  readonly syncOrdersClaimed: PromClient.Counter;
  readonly syncOrdersChanged: PromClient.Counter;
  readonly syncOrdersFailed: PromClient.Counter;

  constructor(prom: PromClientModule, registry: MetricsRegistry) {
    const registers = [registry as unknown as PromClient.Registry];
    const { sources, logger } = this;
    // A metric of this name already in the registry (another copy of the module made it) is reused, not registered twice.
    const existing = <M>(name: string): M | undefined => registry.getSingleMetric(name) as M | undefined;
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      existing<PromClient.Counter<L>>(name) ?? new prom.Counter<L>({ name, help, labelNames, registers });
    const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
      existing<PromClient.Histogram<L>>(name) ?? new prom.Histogram<L>({ name, help, labelNames, buckets, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], read: (gauge: PromClient.Gauge<L>, source: MetricsDatabaseSource) => Promise<void>) =>
      existing<PromClient.Gauge<L>>(name) ??
      new prom.Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        // Read from the database when scraped, from the first module instance still running; a failed read leaves the gauge empty.
        async collect() {
          this.reset();
          const source = sources.values().next().value;
          if (!source) return;
          try {
            await read(this, source);
          } catch (err) {
            this.reset();
            logger.warn(`${name}: the database read failed: ${(err as Error).message}`);
          }
        },
      });

    this.webhooksReceived = counter('fulfilment_webhooks_received_total', 'Provider webhooks received, by provider, topic and outcome (inbox outcome, duplicate, or the reason it was refused)', ['provider', 'topic', 'outcome']);
    this.webhookIngestion = histogram(
      'fulfilment_webhook_ingestion_duration_seconds',
      'Time from a webhook reaching the inbox to its commit (before its 2xx), by provider and topic',
      ['provider', 'topic'],
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    );
    this.providerRequests = counter('fulfilment_provider_requests_total', 'HTTP requests to a provider (each attempt), by provider, operation and status (HTTP status, timeout or network_error)', ['provider', 'operation', 'status']);
    this.providerRequestDuration = histogram('fulfilment_provider_request_duration_seconds', 'Duration of each HTTP request to a provider, by provider and operation', ['provider', 'operation'], [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);
    this.providerRetries = counter('fulfilment_provider_retries_total', 'Requests to a provider that repeated an earlier attempt, by provider and operation', ['provider', 'operation']);
    this.syncTicks = counter('fulfilment_sync_ticks_total', 'Status sync ticks, by outcome (completed or failed)', ['outcome']);
    this.syncTickDuration = histogram('fulfilment_sync_tick_duration_seconds', 'Duration of status sync ticks, by outcome', ['outcome'], [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]);
    this.syncOrdersClaimed = counter('fulfilment_sync_orders_claimed_total', 'Orders the status sync leased to read');
    this.syncOrdersChanged = counter('fulfilment_sync_orders_changed_total', 'Orders whose status the status sync moved');
    this.syncOrdersFailed = counter('fulfilment_sync_orders_failed_total', 'Orders whose status read failed in a sync tick (they back off)');
    gauge('fulfilment_orders_open', 'Orders not in a terminal status, by provider and status (read at scrape time)', ['provider', 'status'], async (open, { store, providers }) => {
      for (const provider of providers) for (const status of OPEN_STATUSES) open.set({ provider, status }, 0);
      for (const { provider, status, count } of await store.countOpenOrders()) open.set({ provider, status }, count);
    });
    gauge(
      'fulfilment_sync_oldest_due_order_age_seconds',
      'How long the longest-waiting order the status sync should have read has been due; 0 when none is (read at scrape time)',
      [],
      async (age, { store, providers }) => {
        const now = new Date();
        const oldest = await store.oldestDueSyncAt(providers, now);
        age.set(oldest ? Math.max(0, now.getTime() - oldest.getTime()) / 1000 : 0);
      },
    );
    gauge('fulfilment_events_undelivered', 'Domain events in the outbox not yet delivered to the listeners (read at scrape time)', [], async (undelivered, { store }) => {
      undelivered.set(await store.countUndeliveredEvents());
    });
  }
}

/** One MetricSet per registry: a second module instance (tests, several apps in one process) shares it. */
const metricSets = new WeakMap<MetricsRegistry, MetricSet>();

/**
 * The metrics of one module instance: the observer every lower layer is given (HTTP core, webhook
 * inbox and responder, status sync), over the registry's shared MetricSet. Its database source is
 * withdrawn when the module stops, so a closed app is never queried at scrape time.
 */
export class FulfilmentMetrics implements ProviderCallObserver, WebhookObserver, SyncObserver, OnModuleDestroy {
  private readonly set: MetricSet;

  constructor(
    prom: PromClientModule,
    registry: MetricsRegistry,
    private readonly source: MetricsDatabaseSource,
  ) {
    let set = metricSets.get(registry);
    if (!set) metricSets.set(registry, (set = new MetricSet(prom, registry)));
    this.set = set;
    set.sources.add(source);
  }

  onModuleDestroy(): void {
    this.set.sources.delete(this.source);
  }

  providerAttempt({ provider, operation, outcome, attempt, seconds }: ProviderAttemptRecord): void {
    this.set.providerRequests.inc({ provider, operation, status: outcome });
    this.set.providerRequestDuration.observe({ provider, operation }, seconds);
    if (attempt > 1) this.set.providerRetries.inc({ provider, operation });
  }

  webhookHandled(provider: ProviderName, topic: string, outcome: string, seconds?: number): void {
    this.set.webhooksReceived.inc({ provider, topic, outcome });
    if (seconds !== undefined) this.set.webhookIngestion.observe({ provider, topic }, seconds);
  }

  syncTick(outcome: { report: SyncTickReport } | { failedAfterMs: number }): void {
    if ('failedAfterMs' in outcome) {
      this.set.syncTicks.inc({ outcome: 'failed' });
      this.set.syncTickDuration.observe({ outcome: 'failed' }, outcome.failedAfterMs / 1000);
      return;
    }
    const { report } = outcome;
    this.set.syncTicks.inc({ outcome: 'completed' });
    this.set.syncTickDuration.observe({ outcome: 'completed' }, report.durationMs / 1000);
    this.set.syncOrdersClaimed.inc(report.claimed);
    this.set.syncOrdersChanged.inc(report.changed);
    this.set.syncOrdersFailed.inc(report.failed);
  }
}
