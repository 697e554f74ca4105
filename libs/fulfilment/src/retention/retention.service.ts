import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomBytes } from 'node:crypto';
import { RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import { OrderStore, PRUNABLE_TABLES, type PrunableTable } from '../orders/order-store.js';

/** What one retention run did. */
export interface RetentionReport {
  startedAt: Date;
  durationMs: number;
  /** False when another replica held the lease: this one pruned nothing. */
  ran: boolean;
  /** Rows deleted, per table. */
  pruned: Record<PrunableTable, number>;
}

/** Name of the interval in SchedulerRegistry (a second module instance gets a suffix). */
export const RETENTION_INTERVAL_NAME = 'fulfilment.retention';
/** The job lease's name (fulfilment_job_leases.name). */
export const RETENTION_LEASE = 'retention';
/** How long a claim holds; renewed once half of it has passed, so only a stalled replica loses it. */
const LEASE_MS = 120_000;
const DAY_MS = 86_400_000;
/**
 * After each batch the prune waits at least this many times as long as the batch took, so it holds
 * the database at most a fifth of the time whatever the batch costs there (on SQLite every batch is a
 * turn of the one writer, and a large table makes each row's index pages costlier).
 */
const PAUSE_PER_BATCH_TIME = 4;

export type RetentionCutoffs = Partial<Record<`${PrunableTable}Before`, Date>>;

/**
 * The retention job: on a schedule, deletes webhook inbox rows older than `webhooks.retentionDays`,
 * delivered domain events older than `retention.deliveredEventsDays` and, when `retention.terminalOrderHistoryDays` is set, the history of orders terminal for longer
 * than that. One replica at a time (a lease row claimed with one conditional statement, so it works
 * across processes on PostgreSQL and SQLite); bounded batches of `retention.batchSize` rows, each
 * its own short statement, with `retention.pauseMs` between them so ingestion keeps its pace.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Fulfilment:Retention');
  /** This replica's lease owner id. */
  readonly instanceId = `${process.pid}-${randomBytes(6).toString('hex')}`;
  private intervalName: string | undefined;
  private running: Promise<RetentionReport> | undefined;
  private stopping = false;

  constructor(
    private readonly store: OrderStore,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedFulfilmentOptions,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.options.retention.enabled) return;
    if (!this.scheduler) {
      this.logger.warn('retention is enabled but SchedulerRegistry is missing: import ScheduleModule.forRoot() once in your app module (nothing is pruned)');
      return;
    }
    const name = this.scheduler.doesExist('interval', RETENTION_INTERVAL_NAME) ? `${RETENTION_INTERVAL_NAME}.${this.instanceId}` : RETENTION_INTERVAL_NAME;
    this.scheduler.addInterval(
      name,
      setInterval(() => {
        if (this.running) return; // the previous run is still pruning
        this.runOnce().catch((err: unknown) => this.logger.error(`retention run failed: ${err instanceof Error ? err.message : String(err)}`));
      }, this.options.retention.intervalMs),
    );
    this.intervalName = name;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopping = true; // a run in progress stops after its current batch
    if (this.intervalName && this.scheduler?.doesExist('interval', this.intervalName)) this.scheduler.deleteInterval(this.intervalName);
    await this.running?.catch(() => undefined);
  }

  /** Runs now with the configured windows (after the run in progress, if any) and reports it. */
  runOnce(): Promise<RetentionReport> {
    const now = Date.now();
    const { webhooks, retention } = this.options;
    const days = retention.terminalOrderHistoryDays;
    return this.prune({
      inboxBefore: new Date(now - webhooks.retentionDays * DAY_MS),
      deliveredEventsBefore: new Date(now - retention.deliveredEventsDays * DAY_MS),
      terminalHistoryBefore: days === null ? undefined : new Date(now - days * DAY_MS),
    });
  }

  /**
   * Prunes now, with cutoffs of the caller's choosing (e.g. a one-off clean-up after lowering the
   * window): inbox rows received before `inboxBefore`, the history of orders terminal since before
   * `terminalHistoryBefore`; a cutoff left out prunes nothing of that table. Same lease, batches and
   * pauses as the scheduled runs, and queued after the run in progress. `signal` stops the run after
   * its current batch (what it deleted until then is reported).
   */
  prune(cutoffs: RetentionCutoffs, { signal }: { signal?: AbortSignal } = {}): Promise<RetentionReport> {
    const run = (this.running ?? Promise.resolve()).catch(() => undefined).then(() => this.run(cutoffs, signal));
    const settled = run.finally(() => {
      if (this.running === settled) this.running = undefined;
    });
    this.running = settled;
    return run;
  }

  private async run(cutoffs: RetentionCutoffs, signal?: AbortSignal): Promise<RetentionReport> {
    const startedAt = new Date();
    const report: RetentionReport = { startedAt, durationMs: 0, ran: false, pruned: Object.fromEntries(PRUNABLE_TABLES.map((t) => [t, 0])) as Record<PrunableTable, number> };
    const lease = { until: 0 };
    if (await this.holdLease(lease)) {
      report.ran = true;
      try {
        for (const table of PRUNABLE_TABLES) {
          const before = cutoffs[`${table}Before`];
          if (before) report.pruned[table] = await this.pruneTable(table, before, lease, signal);
        }
      } finally {
        await this.store.releaseJobLease(RETENTION_LEASE, this.instanceId);
      }
    }
    report.durationMs = Date.now() - startedAt.getTime();
    const pruned = PRUNABLE_TABLES.filter((t) => report.pruned[t] > 0);
    if (pruned.length > 0) this.logger.log(`pruned ${pruned.map((t) => `${report.pruned[t]} ${t} rows`).join(', ')} in ${report.durationMs} ms`);
    return report;
  }

  /** Batches until a short one (nothing older is left), the lease is lost, or the app stops. */
  private async pruneTable(table: PrunableTable, before: Date, lease: { until: number }, signal?: AbortSignal): Promise<number> {
    const { batchSize, pauseMs } = this.options.retention;
    let total = 0;
    let from: Date | null = null;
    while (!this.stopping && !signal?.aborted && (await this.holdLease(lease))) {
      const started = Date.now();
      const { deleted, last } = await this.store.pruneBatch(table, before, batchSize, from);
      total += deleted;
      if (deleted < batchSize) break;
      from = last;
      // Capped, so a pause never outlasts the lease it holds.
      const pause = Math.min(Math.max(pauseMs, (Date.now() - started) * PAUSE_PER_BATCH_TIME), LEASE_MS / 4);
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    }
    return total;
  }

  /** Claims the lease, or renews it once half of it has passed; false when another replica holds it. */
  private async holdLease(lease: { until: number }): Promise<boolean> {
    const now = Date.now();
    if (lease.until - now > LEASE_MS / 2) return true;
    const held = await this.store.claimJobLease(RETENTION_LEASE, this.instanceId, new Date(now + LEASE_MS), new Date(now));
    if (!held && lease.until > 0) this.logger.warn('retention lease lost to another replica (this one stalled past it): this run stops');
    lease.until = held ? now + LEASE_MS : 0;
    return held;
  }
}
