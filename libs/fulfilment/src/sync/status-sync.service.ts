import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomBytes } from 'node:crypto';
import { FULFILMENT_METRICS, RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import { ProviderRateLimitError, type ProviderName } from '../http/provider-errors.js';
import type { OrderObservation } from '../orders/order-state-machine.js';
import { OrderStore, type ClaimedOrder } from '../orders/order-store.js';
import { rateLimitPauseMs } from '../orders/sync-schedule.js';
import { PROVIDER_STATUS_READERS, UNKNOWN_ORDER_RECONCILERS, type ProviderStatusReader, type UnknownOrderReconciler } from './provider-status-readers.js';

/** What one sync tick did. */
export interface SyncTickReport {
  startedAt: Date;
  durationMs: number;
  /** Orders leased by this tick. */
  claimed: number;
  /** Orders whose status the provider returned. */
  fetched: number;
  /** Orders whose status (or provider status) the sync moved. */
  changed: number;
  /** Orders whose read failed (they back off). */
  failed: number;
  /** Orders handed back unread because their provider is paused. */
  released: number;
  /** Orders whose create outcome was unknown, settled by reconciliation (linked, or closed as not created). */
  reconciled: number;
  /** HTTP requests made, per provider. */
  httpCalls: Record<ProviderName, number>;
  /** Providers paused after a 429, with the time calls resume. */
  pausedProviders: Array<{ provider: ProviderName; until: Date }>;
}

/** Told about every tick (the module's metrics): its report, or that it failed and after how long. Never throws. */
export interface SyncObserver {
  syncTick(outcome: { report: SyncTickReport } | { failedAfterMs: number }): void;
}
/** A tick as the ops console lists it: its report, or when it failed, when, how long and why. */
export type SyncTickRecord = SyncTickReport & { error?: string };

/** Ticks kept in memory per replica for the ops console. */
const RECENT_TICKS = 20;

/** A tick's report before it did anything (and the report of a tick that failed). */
const emptyTickReport = (startedAt: Date): SyncTickReport => ({
  startedAt,
  durationMs: 0,
  claimed: 0,
  fetched: 0,
  changed: 0,
  failed: 0,
  released: 0,
  reconciled: 0,
  httpCalls: { caryrx: 0, scriptdrop: 0 },
  pausedProviders: [],
});

/** Name of the interval in SchedulerRegistry (a second module instance gets a suffix). */
export const STATUS_SYNC_INTERVAL_NAME = 'fulfilment.status-sync';

/** How long a stopping app waits for the running tick before leaving its leases to expire. */
const STOP_WAIT_MS = 5_000;

/**
 * The scheduled status sync. Each tick leases due open orders in batches through OrderStore
 * (several replicas share the work without reading an order twice), reads their provider status in
 * bulk, and hands what it read back to the store, which settles it through the one state machine:
 * the same history and events as webhooks. Unchanged orders are rescheduled with one statement per
 * batch.
 */
@Injectable()
export class StatusSyncService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Fulfilment:Sync');
  /** This replica's lease owner id. */
  readonly instanceId = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private readonly readers: Map<ProviderName, ProviderStatusReader>;
  private readonly pauses = new Map<ProviderName, { until: number; consecutive: number }>();
  private intervalName: string | undefined;
  /** The tick in progress (or queued behind it): ticks never overlap. */
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly recent: SyncTickRecord[] = [];

  constructor(
    private readonly store: OrderStore,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedFulfilmentOptions,
    @Inject(PROVIDER_STATUS_READERS) readers: ProviderStatusReader[],
    @Optional() private readonly scheduler?: SchedulerRegistry,
    @Optional() @Inject(FULFILMENT_METRICS) private readonly observer?: SyncObserver | null,
    @Optional() @Inject(UNKNOWN_ORDER_RECONCILERS) private readonly reconcilers: UnknownOrderReconciler[] = [],
  ) {
    this.readers = new Map(readers.map((r) => [r.provider, r]));
  }

  onApplicationBootstrap(): void {
    const { enabled, intervalMs } = this.options.sync;
    if (!enabled) return;
    if (!this.scheduler) {
      this.logger.warn(
        'status sync is enabled but SchedulerRegistry is missing: import ScheduleModule.forRoot() once in your app module (the sync is not scheduled)',
      );
      return;
    }
    let name = STATUS_SYNC_INTERVAL_NAME;
    if (this.scheduler.doesExist('interval', name)) name = `${name}.${this.instanceId}`;
    const handle = setInterval(() => this.onInterval(), intervalMs);
    this.scheduler.addInterval(name, handle);
    this.intervalName = name;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    if (this.intervalName && this.scheduler?.doesExist('interval', this.intervalName)) {
      this.scheduler.deleteInterval(this.intervalName);
    }
    this.intervalName = undefined;
    if (this.running) {
      // Let the current batch finish; past the wait its leases simply expire.
      await Promise.race([this.running, new Promise((r) => setTimeout(r, STOP_WAIT_MS).unref())]);
    }
  }

  /** Providers paused after a 429, and until when. */
  pausedProviders(now = Date.now()): Array<{ provider: ProviderName; until: Date }> {
    return [...this.pauses.entries()]
      .filter(([, p]) => p.until > now)
      .map(([provider, p]) => ({ provider, until: new Date(p.until) }));
  }

  /**
   * Runs one tick now and reports it. Waits for a tick in progress first (ticks never overlap).
   * A tick works through every order due when it started, batch by batch.
   */
  runOnce(): Promise<SyncTickReport> {
    // `running` never rejects: it only orders ticks; the caller gets this tick's own outcome.
    const run = (this.running ?? Promise.resolve()).then(() => this.observedTick());
    const settled: Promise<void> = run.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      if (this.running === settled) this.running = undefined;
    });
    this.running = settled;
    return run;
  }

  /** This replica's last ticks, newest first (the ops console's sync page). */
  recentTicks(): SyncTickRecord[] {
    return [...this.recent];
  }

  /** The scheduled tick: skipped while one is still running; a failure is logged, the next runs. */
  private onInterval(): void {
    if (this.running || this.stopping) {
      this.logger.debug('previous sync tick still running: this one is skipped');
      return;
    }
    this.runOnce().catch((err: unknown) => {
      this.logger.error(`sync tick failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** A tick, told to the metrics and kept for the ops console, whether it completed or failed. */
  private async observedTick(): Promise<SyncTickReport> {
    const startedAt = new Date();
    const keep = (record: SyncTickRecord) => {
      this.recent.unshift(record);
      this.recent.length = Math.min(this.recent.length, RECENT_TICKS);
    };
    try {
      const report = await this.tick();
      keep(report);
      this.observer?.syncTick({ report });
      return report;
    } catch (err) {
      const durationMs = Date.now() - startedAt.getTime();
      const error = err instanceof Error ? err.message : String(err);
      keep({ ...emptyTickReport(startedAt), durationMs, error });
      this.observer?.syncTick({ failedAfterMs: durationMs });
      throw err;
    }
  }

  private async tick(): Promise<SyncTickReport> {
    const startedAt = new Date();
    const report = emptyTickReport(startedAt);
    // PostgreSQL: a second claim→read→write loop overlaps one batch's HTTP with another's writes,
    // started only once a claim came back full. Two loops starting together would split a small
    // due set between them (SKIP LOCKED) and pay two multi-gets where one serves.
    // SQLite has one connection, so one loop.
    let second: Promise<void> | undefined;
    const onFullClaim =
      this.store.concurrentWriters
        ? () => {
            if (second) return;
            second = this.work(startedAt, report);
            second.catch(() => undefined); // awaited below; this only keeps Node from calling it unhandled
          }
        : undefined;
    await this.work(startedAt, report, onFullClaim);
    await second;
    await this.reconcile(report);
    report.durationMs = Date.now() - startedAt.getTime();
    report.pausedProviders = this.pausedProviders();
    if (report.claimed > 0) {
      this.logger.debug(
        `sync tick: claimed ${report.claimed}, changed ${report.changed}, failed ${report.failed}, ${report.durationMs} ms`,
      );
    }
    return report;
  }

  /** Claims and processes batches until nothing due at `startedAt` is left (or the app stops). */
  private async work(startedAt: Date, report: SyncTickReport, onFullClaim?: () => void): Promise<void> {
    const { batchSize, concurrency, leaseMs } = this.options.sync;
    // One claim feeds `concurrency` requests of `batchSize` ids: the lease and reschedule
    // statements are paid once per claim, not once per HTTP call.
    const claimSize = batchSize * concurrency;
    while (!this.stopping) {
      const now = new Date();
      const providers = [...this.readers.keys()].filter((p) => !this.isPaused(p, now.getTime()));
      if (providers.length === 0) return;
      const claimed = await this.store.claimDue({
        owner: this.instanceId,
        providers,
        limit: claimSize,
        // Only what was due when the tick started: a long tick cannot chase its own reschedules.
        dueBefore: startedAt,
        now,
        leaseUntil: new Date(now.getTime() + leaseMs),
      });
      if (claimed.length === 0) return;
      report.claimed += claimed.length;
      if (claimed.length === claimSize) onFullClaim?.();
      const byProvider = new Map<ProviderName, ClaimedOrder[]>();
      for (const order of claimed) {
        const list = byProvider.get(order.provider) ?? [];
        list.push(order);
        byProvider.set(order.provider, list);
      }
      for (const [provider, orders] of byProvider) {
        await this.syncBatch(this.readers.get(provider)!, orders, startedAt, report);
      }
    }
  }

  private async syncBatch(reader: ProviderStatusReader, orders: ClaimedOrder[], tickStart: Date, report: SyncTickReport): Promise<void> {
    const provider = reader.provider;
    const ids = orders.map((o) => o.id);
    if (this.isPaused(provider, Date.now())) {
      await this.releaseUntouched(ids, report);
      return;
    }
    let observations: Map<string, OrderObservation>;
    try {
      observations = await reader.read(
        orders.map((o) => o.providerOrderId!),
        { onRequest: () => report.httpCalls[provider]++ },
      );
      this.pauses.delete(provider);
    } catch (err) {
      if (err instanceof ProviderRateLimitError) {
        const consecutive = (this.pauses.get(provider)?.consecutive ?? 0) + 1;
        const pauseMs = rateLimitPauseMs(err.retryAfterMs, consecutive, this.options.sync.intervalMs);
        this.pauses.set(provider, { until: Date.now() + pauseMs, consecutive });
        this.logger.warn(`${provider} answered 429: no sync calls to it for ${pauseMs} ms; its claimed orders are released`);
        await this.releaseUntouched(ids, report);
        return;
      }
      this.logger.warn(`${provider} status read of ${ids.length} orders failed: ${(err as Error).message}`);
      await this.fail(orders, (err as Error).message, report);
      return;
    }

    const read: Array<{ order: ClaimedOrder; observation: OrderObservation }> = [];
    const missing: ClaimedOrder[] = [];
    for (const order of orders) {
      const observation = observations.get(order.providerOrderId!);
      if (observation) read.push({ order, observation });
      else missing.push(order);
    }
    report.fetched += read.length;
    if (read.length > 0) {
      try {
        // Scheduled from the tick's start, so an order read late in a tick is due again by the next one.
        report.changed += await this.store.settleSynced(this.instanceId, read, tickStart);
      } catch (err) {
        this.logger.warn(`applying ${read.length} synced reads failed: ${(err as Error).message}`);
        report.fetched -= read.length;
        await this.fail(read.map((r) => r.order), 'applying the provider status failed', report);
      }
    }
    if (missing.length > 0) {
      this.logger.warn(`${provider}: ${missing.length} of ${orders.length} orders not returned by the provider`);
      await this.fail(missing, `${provider} did not return the order`, report);
    }
  }

  /** Each reconciler settles what it can of its provider's unknown orders (skipped while the provider is paused). */
  private async reconcile(report: SyncTickReport): Promise<void> {
    for (const reconciler of this.reconcilers) {
      if (this.stopping || this.isPaused(reconciler.provider, Date.now())) continue;
      try {
        report.reconciled += await reconciler.reconcileDue(this.instanceId);
      } catch (err) {
        this.logger.warn(`${reconciler.provider}: reconciling unknown orders failed: ${(err as Error).message}`);
      }
    }
  }

  private async fail(orders: ClaimedOrder[], reason: string, report: SyncTickReport): Promise<void> {
    report.failed += orders.length;
    await this.store.releaseFailed(this.instanceId, orders, reason);
  }

  private async releaseUntouched(ids: string[], report: SyncTickReport): Promise<void> {
    report.released += ids.length;
    await this.store.releaseUntouched(this.instanceId, ids);
  }

  private isPaused(provider: ProviderName, now: number): boolean {
    return (this.pauses.get(provider)?.until ?? 0) > now;
  }
}
