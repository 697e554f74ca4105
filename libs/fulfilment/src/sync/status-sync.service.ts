import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomBytes } from 'node:crypto';
import { In, type DataSource } from 'typeorm';
import { FULFILMENT_DATA_SOURCE, RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import { ProviderRateLimitError, type ProviderName } from '../http/provider-errors.js';
import { FulfilmentOrder } from '../orders/entities/fulfilment-order.entity.js';
import { decideTransition } from '../orders/order-status.js';
import { OrderTransitionService, changedDetails, type OrderObservation, type TransitionResult } from '../orders/order-transitions.service.js';
import { nextSyncAt, rateLimitPauseMs } from '../orders/sync-schedule.js';
import { serialiseOnSqlite } from '../orders/sqlite-serialiser.js';
import { PROVIDER_STATUS_READERS, type ProviderStatusReader } from './provider-status-readers.js';
import { SyncOrderStore, type ClaimedOrder, type ScheduleGroup } from './sync-order-store.js';

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
  /** HTTP requests made, per provider. */
  httpCalls: Record<ProviderName, number>;
  /** Providers paused after a 429, with the time calls resume. */
  pausedProviders: Array<{ provider: ProviderName; until: Date }>;
}

/** Name of the interval in SchedulerRegistry (a second module instance gets a suffix). */
export const STATUS_SYNC_INTERVAL_NAME = 'fulfilment.status-sync';

/** How long a stopping app waits for the running tick before leaving its leases to expire. */
const STOP_WAIT_MS = 5_000;

/**
 * The scheduled status sync. Each tick leases due open orders in batches (several replicas share
 * the work without reading an order twice), reads their provider status in bulk, and moves
 * changed orders through OrderTransitionService: the same state machine, history and events as
 * webhooks. Unchanged orders are rescheduled with one statement per batch.
 */
@Injectable()
export class StatusSyncService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Fulfilment:Sync');
  /** This replica's lease owner id. */
  readonly instanceId = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private storeInstance: SyncOrderStore | undefined;
  private readonly readers: Map<ProviderName, ProviderStatusReader>;
  private readonly pauses = new Map<ProviderName, { until: number; consecutive: number }>();
  private intervalName: string | undefined;
  /** The tick in progress (or queued behind it): ticks never overlap. */
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(
    @Inject(FULFILMENT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedFulfilmentOptions,
    @Inject(PROVIDER_STATUS_READERS) readers: ProviderStatusReader[],
    private readonly transitions: OrderTransitionService,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {
    this.readers = new Map(readers.map((r) => [r.provider, r]));
  }

  /** Built on first use: the DataSource's metadata is complete only once TypeORM has initialised it. */
  private get store(): SyncOrderStore {
    return (this.storeInstance ??= new SyncOrderStore(this.dataSource));
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
    const run = (this.running ?? Promise.resolve()).then(() => this.tick());
    const settled: Promise<void> = run.then(
      () => undefined,
      () => undefined,
    ).then(() => {
      if (this.running === settled) this.running = undefined;
    });
    this.running = settled;
    return run;
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

  private async tick(): Promise<SyncTickReport> {
    const startedAt = new Date();
    const report: SyncTickReport = {
      startedAt,
      durationMs: 0,
      claimed: 0,
      fetched: 0,
      changed: 0,
      failed: 0,
      released: 0,
      httpCalls: { caryrx: 0, scriptdrop: 0 },
      pausedProviders: [],
    };
    // PostgreSQL: a second claim→read→write loop overlaps one batch's HTTP with another's writes,
    // started only once a claim came back full. Two loops starting together would split a small
    // due set between them (SKIP LOCKED) and pay two multi-gets where one serves.
    // SQLite has one connection, so one loop.
    let second: Promise<void> | undefined;
    const onFullClaim =
      this.dataSource.options.type === 'postgres'
        ? () => {
            if (second) return;
            second = this.work(startedAt, report);
            second.catch(() => undefined); // awaited below; this only keeps Node from calling it unhandled
          }
        : undefined;
    await this.work(startedAt, report, onFullClaim);
    await second;
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
      const claimed = await serialiseOnSqlite(this.dataSource, () =>
        this.store.claim({
          owner: this.instanceId,
          providers,
          limit: claimSize,
          // Only what was due when the tick started: a long tick cannot chase its own reschedules.
          dueBefore: startedAt,
          now,
          leaseUntil: new Date(now.getTime() + leaseMs),
        }),
      );
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

    // Written from the tick's start, so an order read late in a tick is due again by the next one.
    const now = tickStart;
    const unchanged: ClaimedOrder[] = [];
    const changed: Array<{ order: ClaimedOrder; observation: OrderObservation }> = [];
    const missing: ClaimedOrder[] = [];
    for (const order of orders) {
      const observation = observations.get(order.providerOrderId!);
      if (!observation) missing.push(order);
      else if (this.wouldChange(order, observation)) changed.push({ order, observation });
      else unchanged.push(order);
    }
    report.fetched += unchanged.length + changed.length;

    if (unchanged.length > 0) {
      const groups = this.schedule(
        unchanged.map((o) => ({ id: o.id, status: o.status, changed: false, quietForMs: now.getTime() - o.updatedAt.getTime(), failures: 0 })),
        now,
      );
      await serialiseOnSqlite(this.dataSource, () => this.store.releaseSynced(this.dataSource.manager, this.instanceId, groups, new Date()));
    }
    if (changed.length > 0) await this.applyChanges(changed, now, report);
    if (missing.length > 0) {
      this.logger.warn(`${provider}: ${missing.length} of ${orders.length} orders not returned by the provider`);
      await this.fail(missing, `${provider} did not return the order`, report);
    }
  }

  /**
   * Changed orders go through the one transition path inside ONE transaction per batch: rows
   * re-read under lock (a webhook may have moved them since the claim), applied, released with
   * their next schedule; events published after commit.
   */
  private async applyChanges(
    changed: Array<{ order: ClaimedOrder; observation: OrderObservation }>,
    now: Date,
    report: SyncTickReport,
  ): Promise<void> {
    const byId = new Map(changed.map((c) => [c.order.id, c.observation]));
    let results: TransitionResult[];
    try {
      results = await serialiseOnSqlite(this.dataSource, () =>
        this.dataSource.transaction(async (manager) => {
          const fresh = await manager.find(FulfilmentOrder, {
            where: { id: In([...byId.keys()]) },
            order: { id: 'ASC' },
            ...this.transitions.rowLock(manager),
          });
          const out: TransitionResult[] = [];
          const schedule: Array<{ id: string; status: FulfilmentOrder['status']; changed: boolean; quietForMs: number; failures: number }> = [];
          for (const order of fresh) {
            const result = await this.transitions.apply(manager, order, byId.get(order.id)!, 'sync');
            out.push(result);
            const moved = result.outcome === 'applied';
            schedule.push({ id: order.id, status: order.status, changed: moved, quietForMs: moved ? 0 : now.getTime() - order.updatedAt.getTime(), failures: 0 });
          }
          await this.store.releaseSynced(manager, this.instanceId, this.schedule(schedule, now), new Date());
          return out;
        }),
      );
    } catch (err) {
      this.logger.warn(`applying ${changed.length} synced changes failed: ${(err as Error).message}`);
      await this.fail(
        changed.map((c) => c.order),
        'applying the provider status failed',
        report,
      );
      report.fetched -= changed.length;
      return;
    }
    for (const result of results) {
      if (result.outcome === 'applied') report.changed++;
      this.transitions.publish(result);
    }
  }

  /** Cheap pre-check on the claimed row: only orders that may change pay for a transaction. */
  private wouldChange(order: ClaimedOrder, o: OrderObservation): boolean {
    if (decideTransition(order, o).kind === 'apply') return true;
    if (order.status === 'delivered' || order.status === 'returned' || order.status === 'cancelled') return false;
    return Object.keys(changedDetails(order, o)).length > 0;
  }

  private async fail(orders: ClaimedOrder[], reason: string, report: SyncTickReport): Promise<void> {
    report.failed += orders.length;
    const now = new Date();
    const groups = this.schedule(
      orders.map((o) => ({ id: o.id, status: o.status, changed: false, quietForMs: 0, failures: o.syncFailures + 1 })),
      now,
    );
    await serialiseOnSqlite(this.dataSource, () => this.store.releaseFailed(this.instanceId, groups, reason));
  }

  private async releaseUntouched(ids: string[], report: SyncTickReport): Promise<void> {
    report.released += ids.length;
    await serialiseOnSqlite(this.dataSource, () => this.store.releaseUntouched(this.instanceId, ids));
  }

  /** Orders grouped by their next sync time (few distinct values), for one UPDATE per batch. */
  private schedule(
    orders: Array<{ id: string; status: FulfilmentOrder['status']; changed: boolean; quietForMs: number; failures: number }>,
    now: Date,
  ): ScheduleGroup[] {
    const groups = new Map<number | null, ScheduleGroup>();
    for (const o of orders) {
      const next = nextSyncAt(o, now, this.options.sync.intervalMs);
      const key = next?.getTime() ?? null;
      const group = groups.get(key) ?? { nextSyncAt: next, ids: [] };
      group.ids.push(o.id);
      groups.set(key, group);
    }
    return [...groups.values()];
  }

  private isPaused(provider: ProviderName, now: number): boolean {
    return (this.pauses.get(provider)?.until ?? 0) > now;
  }
}
