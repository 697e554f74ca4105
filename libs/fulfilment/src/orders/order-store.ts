import { Logger } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { ProviderName } from '../http/provider-errors.js';
import { FulfilmentOrder, OPEN_ORDER_CONDITION } from './entities/fulfilment-order.entity.js';
import { OrderStatusHistory, type StatusChangeSource } from './entities/order-status-history.entity.js';
import { PatientLink } from './entities/patient-link.entity.js';
import { PatientLocation } from './entities/patient-location.entity.js';
import { Prescription } from './entities/prescription.entity.js';
import { WebhookInboxEvent, type InboxOutcome } from './entities/webhook-inbox-event.entity.js';
import { WebhookRegistration } from './entities/webhook-registration.entity.js';
import { FulfilmentOutboxEvent } from './entities/outbox-event.entity.js';
import { FulfilmentEventBus } from './fulfilment-event-bus.js';
import { FulfilmentEvents, type OrderStatusChangedEvent, type PrescriptionEvent } from './fulfilment-events.js';
import {
  ORDER_DETAIL_KEYS,
  TERMINAL_STATUSES,
  becomesUnknown,
  decide,
  decidePrescription,
  type FulfilmentStatus,
  type ObservationOutcome,
  type OrderObservation,
  type OrderState,
  type ProviderStatusTable,
} from './order-state-machine.js';
import { nextSyncAt } from './sync-schedule.js';
import { StoreDatabase, marks, type DbRow, type EntityCodec, type Session } from './store/store-database.js';
import { JobLease } from './entities/job-lease.entity.js';
import type { ObjectLiteral } from 'typeorm';

export interface OrderStoreSettings {
  /** The status sync's interval: the unit of next_sync_at. */
  syncIntervalMs: number;
  /**
   * Each provider's status table (given by the module, which knows the providers), to apply an
   * order event kept as `unmatched` once its order is linked.
   */
  statusTables?: Partial<Record<ProviderName, ProviderStatusTable>>;
  /** Domain event delivery (see EventOptions); defaults as there. */
  events?: { leaseMs: number; maxFailures: number };
}

/**
 * How an order event's observation is kept in its inbox row (`payload`): everything but the
 * provider's status table, which is the provider's own and known again from its name.
 */
export type StoredObservation = Omit<OrderObservation, 'statuses'>;

/** What a received provider event does once stored, described as data (the store applies it). */
export interface InboxEffect {
  /** An order observation, applied through the state machine. */
  order?: { provider: ProviderName; providerOrderId: string; observation: OrderObservation };
  /** A prescription's status. */
  prescription?: { provider: ProviderName; providerPrescriptionId: string; providerPatientId: string | null; status: string | null; providerUpdatedAt: Date | null };
  /** A registration test payload: confirms that registration (an unmatched order is then `test`). */
  confirmsRegistration?: { provider: ProviderName; topic: string };
}

export interface InboxWrite {
  /** The inbox row as received (outcome and processedAt are set by the store). */
  row: WebhookInboxEvent;
  effect: InboxEffect;
}

export interface InboxResult {
  /** The same event was stored before: acknowledged, not applied again. */
  duplicate: boolean;
  outcome: InboxOutcome | null;
}

/** The database refused to store the event at all: the provider gets a 500 and delivers again. */
export interface InboxRefused {
  refused: unknown;
}

export interface ObserveResult {
  outcome: ObservationOutcome;
  /** The order as stored afterwards (absent when unmatched). */
  order?: FulfilmentOrder;
}

/** Where a page of orders ends: the next page starts after this row. */
export interface OrderListCursor {
  /** created_at (newest-first pages) or updated_at ("stuck" pages) of the last row. */
  at: Date;
  id: string;
}

export interface OrderListQuery {
  /** Every provider the module knows (a provider-id search looks in each: an index lookup per provider). */
  providers: ProviderName[];
  provider?: ProviderName;
  status?: FulfilmentStatus;
  /** Open orders whose last change is older than this. */
  stuckBefore?: Date;
  /** An order's local id, host reference or provider id, exactly. */
  search?: string;
  after?: OrderListCursor;
  limit: number;
}

export interface InboxCursor {
  at: Date;
  dedupKey: string;
}

export interface SyncBacklog {
  due: number;
  overdue: number;
  /** More orders are due than the cap counted. */
  capped: boolean;
  leases: Array<{ owner: string; orders: number; until: Date }>;
}

/** What asked for a change: its history source and, for a person (source `ops`), who. */
export interface ChangeContext {
  source: StatusChangeSource;
  actor: string | null;
}

/** What the sync reads of an order it leases: enough for the state machine to tell a change. */
export type ClaimedOrder = Pick<FulfilmentOrder, 'id' | 'provider' | 'providerOrderId' | 'syncFailures' | 'updatedAt'> & OrderState;

/**
 * Tables retention prunes, in the order a run prunes them: `inbox` (webhook inbox rows by
 * received_at), `terminalHistory` (the status history of orders terminal since before the cutoff)
 * and `deliveredEvents` (outbox rows by delivered_at; an undelivered one never).
 * Another table is one more name here and its entry in OrderStore.pruneTarget.
 */
export const PRUNABLE_TABLES = ['inbox', 'terminalHistory', 'deliveredEvents'] as const;
export type PrunableTable = (typeof PRUNABLE_TABLES)[number];

/** How one table is pruned: rows whose `time` is before the cutoff (NULL never is) and meet `also`. */
interface PruneTarget {
  codec: EntityCodec<ObjectLiteral>;
  time: string;
  /** A further condition on the row (aliased `t`), with its parameters for a cutoff. */
  also?: { sql: string; params: (before: Date) => unknown[] };
}

/** What the state machine compares: the status and every detail an observation may carry. */
const OBSERVED = ['status', 'providerStatus', 'providerUpdatedAt', ...ORDER_DETAIL_KEYS] as const;

const CLAIMED: ReadonlyArray<keyof ClaimedOrder> = ['id', 'provider', 'providerOrderId', ...OBSERVED, 'syncFailures', 'updatedAt'];

/** Every column an order's life changes; an order update writes all of them (the row is locked). */
const ORDER_STATE: ReadonlyArray<keyof FulfilmentOrder & string> = [
  'providerOrderId',
  'providerCreatedAt',
  ...OBSERVED,
  'lastError',
  'version',
  'nextSyncAt',
  'syncLeaseOwner',
  'syncLeaseUntil',
  'syncFailures',
  'lastSyncedAt',
  'updatedAt',
];

/** Another writer committed the same event between our check and our insert (PostgreSQL). */
class StoredMeanwhile extends Error {}

/** SQLSTATE of the optimistic write's guard (a deliberate division by zero): nothing was written. */
const GUARD_FAILED = '22012';

/** Changes made in one transaction, published once it committed. */
class Changes {
  readonly orders = new Map<string, FulfilmentOrder>();
  /** Each changed order as it was read, so only the columns that changed are written. */
  readonly loaded = new Map<string, FulfilmentOrder>();
  readonly history: OrderStatusHistory[] = [];
  readonly events: Array<{ name: string; payload: object }> = [];
  /** The outbox rows written for `events`, with the payload objects the listeners get. */
  readonly outbox: Array<{ row: FulfilmentOutboxEvent; payload: object }> = [];
  /** Who asked for these changes (an operator in the ops console); written on their history rows. */
  constructor(readonly actor: string | null = null) {}
}

/**
 * The one owner of the module's tables: orders, their history, the webhook inbox, webhook
 * registrations, patient links, locations, prescriptions and the sync leases. Services call its
 * intent methods; it decides nothing itself (the state machine does, in order-state-machine.ts),
 * and it owns transactions, row locks, the SQLite turn-taking (StoreDatabase), dialect
 * differences and next_sync_at. Domain events are published here, once their transaction committed.
 */
export class OrderStore {
  private readonly logger = new Logger('Fulfilment:Orders');
  private databaseInstance: StoreDatabase | undefined;
  /** This replica's name on the outbox rows it delivers. */
  readonly instanceId = `${process.pid}-${randomBytes(6).toString('hex')}`;
  /** Outbox deliveries settled but not yet written (one statement per event-loop turn). */
  private readonly settled = { delivered: [] as string[], failed: [] as Array<{ id: string; failures: number; error: string }> };
  private settling: Promise<void> = Promise.resolve();
  private settleQueued = false;
  /** Settlement writes queued or running. */
  private settleWrites = 0;
  /** Deliveries whose listeners have not settled yet. */
  private readonly delivering = new Set<Promise<void>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly settings: OrderStoreSettings,
    private readonly events: FulfilmentEventBus,
  ) {}

  /** Built on first use: the DataSource's metadata is complete only once TypeORM initialised it. */
  private get db(): StoreDatabase {
    return (this.databaseInstance ??= new StoreDatabase(this.dataSource));
  }

  // --- reads -------------------------------------------------------------------------------------

  getOrder(id: string): Promise<FulfilmentOrder | null> {
    return this.db.autocommit((s) => this.selectOrder(s, 'id = ?', [id], false));
  }

  getOrderByIdempotencyKey(idempotencyKey: string): Promise<FulfilmentOrder | null> {
    return this.db.autocommit((s) => this.selectOrder(s, 'idempotency_key = ?', [idempotencyKey], false));
  }

  /** The order's status changes, oldest first. */
  history(orderId: string): Promise<OrderStatusHistory[]> {
    const h = this.db.codec(OrderStatusHistory);
    return this.db.autocommit(async (s) =>
      (await s.all(`SELECT ${h.columnList} FROM ${h.table} WHERE order_id = ? ORDER BY created_at`, [orderId])).map((r) => h.decode(r)),
    );
  }

  // --- placing orders ----------------------------------------------------------------------------

  /**
   * Stores a new order (status `created`) with its first history row, before the provider is
   * called. When the idempotency key is already used, nothing is written and the stored order is
   * returned with `created: false`.
   */
  async placeOrder(order: FulfilmentOrder): Promise<{ order: FulfilmentOrder; created: boolean }> {
    const o = this.db.codec(FulfilmentOrder);
    const changes = new Changes();
    const result = await this.db.transaction(async (s) => {
      const inserted = await s.all(`INSERT INTO ${o.table} (${o.columnList}) VALUES (${marks(o.columns.length)}) ON CONFLICT DO NOTHING RETURNING id`, o.values(order));
      if (inserted.length === 0) {
        const existing = await this.selectOrder(s, 'idempotency_key = ?', [order.idempotencyKey], false);
        if (existing) return { order: existing, created: false };
        throw new Error(`order ${order.id} could not be stored`);
      }
      this.recordChange(changes, null, order, 'create', null);
      await this.writeChanges(s, changes, { update: false });
      return { order, created: true };
    });
    this.publish(changes);
    return result;
  }

  /** The provider answered the create call: its id is stored and its answer applied (source `create`). */
  async linkCreated(orderId: string, created: { providerOrderId: string; providerCreatedAt: Date | null; observation: OrderObservation }): Promise<FulfilmentOrder> {
    const result = await this.changeOrder(
      'id = ?',
      [orderId],
      (order) => {
        order.providerOrderId = created.providerOrderId;
        order.providerCreatedAt = created.providerCreatedAt;
        return { observation: created.observation, source: 'create', forceWrite: true };
      },
      (s, changes, order) => this.applyUnmatched(s, changes, order),
    );
    return result.order!;
  }

  /**
   * Order events that arrived before their order had its provider id (kept `unmatched`), applied
   * now in the linking transaction, in provider-timestamp order; each inbox row records what the
   * event did then. PostgreSQL: a lock on the provider id orders this against a webhook for the
   * same id being stored at the same moment (see lockUnmatched).
   */
  private async applyUnmatched(s: Session, changes: Changes, order: FulfilmentOrder): Promise<void> {
    const statuses = this.settings.statusTables?.[order.provider];
    if (!statuses || !order.providerOrderId) return;
    await this.lockUnmatched(s, order.provider, [order.providerOrderId]);
    const i = this.db.codec(WebhookInboxEvent);
    const late = (
      await s.all(
        `SELECT ${i.columnList} FROM ${i.table} WHERE provider = ? AND entity_id = ? AND outcome = 'unmatched' ORDER BY provider_timestamp, received_at`,
        [order.provider, order.providerOrderId],
      )
    ).map((r) => i.decode(r));
    const now = new Date();
    for (const row of late) {
      const outcome = this.applyObservation(changes, order, { ...reviveObservation(row.payload), statuses }, 'webhook', now);
      await s.run(`UPDATE ${i.table} SET outcome = ?, processed_at = ? WHERE dedup_key = ?`, [outcome, i.value('processedAt', now), row.dedupKey]);
    }
  }

  /** PostgreSQL: serialises linking a provider id with storing an unmatched event for it (SQLite has one writer). */
  private async lockUnmatched(s: Session, provider: ProviderName, providerOrderIds: string[]): Promise<void> {
    if (!this.db.postgres) return;
    for (const id of [...new Set(providerOrderIds)].sort()) await s.all(`SELECT pg_advisory_xact_lock(hashtext(?))`, [`nestjs-fulfilment:${provider}:${id}`]);
  }

  /** The provider definitely refused the create: the order and its history go (nothing half-written). */
  async discardRefused(orderId: string): Promise<void> {
    const o = this.db.codec(FulfilmentOrder);
    const h = this.db.codec(OrderStatusHistory);
    await this.db.transaction(async (s) => {
      await s.run(`DELETE FROM ${h.table} WHERE order_id = ?`, [orderId]);
      await s.run(`DELETE FROM ${o.table} WHERE id = ?`, [orderId]);
    });
  }

  /** The create call's outcome is unknown: the order becomes `unknown` if it is still `created` (see becomesUnknown). */
  async markUnknown(orderId: string, reason: string): Promise<FulfilmentOrder | undefined> {
    const changes = new Changes();
    const order = await this.db.transaction(async (s) => {
      const current = await this.selectOrder(s, 'id = ?', [orderId], true);
      if (!current || !becomesUnknown(current)) return current ?? undefined;
      const next = Object.assign(new FulfilmentOrder(), current, { status: 'unknown', lastError: reason.slice(0, 500), version: current.version + 1, updatedAt: new Date() });
      changes.loaded.set(current.id, current);
      this.recordChange(changes, current, next, 'create', null);
      await this.writeChanges(s, changes);
      return next;
    });
    this.publish(changes);
    return order;
  }

  /**
   * Resolves an `unknown` order: linked to the provider's id (found by an operator, or by
   * reconciliation, which also hands over what the provider said of it: applied at once), or closed
   * as `not_created`. A link without an observation is due for a read at once; late events for that
   * id are applied either way. `conflict` when the order is no longer unknown or another order holds
   * that provider id; nothing is written then. History and events carry `source`.
   */
  async resolveUnknown(
    orderId: string,
    resolution: { providerOrderId: string; providerCreatedAt?: Date | null; observation?: OrderObservation } | { notCreated: true; reason?: string },
    by: ChangeContext = { source: 'api', actor: null },
  ): Promise<{ order: FulfilmentOrder | null; conflict?: string }> {
    const changes = new Changes(by.actor);
    const result = await this.db.transaction(async (s): Promise<{ order: FulfilmentOrder | null; conflict?: string }> => {
      const current = await this.selectOrder(s, 'id = ?', [orderId], true);
      if (!current) return { order: null };
      if (current.status !== 'unknown' || current.providerOrderId) return { order: current, conflict: `order ${orderId} is ${current.status}, not unknown` };
      changes.loaded.set(current.id, current);
      const now = new Date();
      if ('notCreated' in resolution) {
        const lastError = (resolution.reason ?? 'closed by an operator: not created at the provider').slice(0, 500);
        const next = Object.assign(new FulfilmentOrder(), current, { status: 'not_created', lastError, version: current.version + 1, nextSyncAt: null, syncLeaseOwner: null, syncLeaseUntil: null, updatedAt: now });
        this.recordChange(changes, current, next, by.source, null);
      } else {
        const holder = await this.selectOrder(s, 'provider = ? AND provider_order_id = ?', [current.provider, resolution.providerOrderId], false);
        if (holder) return { order: current, conflict: `${current.provider} order ${resolution.providerOrderId} already belongs to order ${holder.id}` };
        const next = Object.assign(new FulfilmentOrder(), current, {
          providerOrderId: resolution.providerOrderId,
          providerCreatedAt: resolution.providerCreatedAt ?? current.providerCreatedAt,
          lastError: null,
          nextSyncAt: now,
          syncLeaseOwner: null,
          syncLeaseUntil: null,
          updatedAt: now,
        });
        changes.orders.set(current.id, next);
        if (resolution.observation) this.applyObservation(changes, next, resolution.observation, by.source, now, true);
        await this.applyUnmatched(s, changes, changes.orders.get(current.id)!);
      }
      await this.writeChanges(s, changes);
      return { order: changes.orders.get(current.id)! };
    });
    this.publish(changes);
    return result;
  }

  /**
   * Leases up to `limit` of `provider`'s `unknown` orders that are due for reconciliation (never
   * tried, or their next attempt has come) to `owner`, oldest first, in ONE statement; on PostgreSQL
   * with SKIP LOCKED, so replicas take disjoint sets. Uses the partial index of unknown orders.
   */
  async claimUnknown(args: { owner: string; provider: ProviderName; limit: number; now: Date; leaseUntil: Date }): Promise<FulfilmentOrder[]> {
    const o = this.db.codec(FulfilmentOrder);
    const pg = this.db.postgres;
    const now = o.value('syncLeaseUntil', args.now);
    const rows = await this.db.autocommit((s) =>
      s.all(
        `UPDATE ${o.table} SET sync_lease_owner = ?, sync_lease_until = ?
         WHERE id ${pg ? '= ANY(ARRAY(' : 'IN ('}
           SELECT id FROM ${o.table}
           WHERE provider = ? AND status = 'unknown' AND provider_order_id IS NULL
             AND (next_sync_at IS NULL OR next_sync_at <= ?) AND (sync_lease_until IS NULL OR sync_lease_until < ?)
           ORDER BY created_at LIMIT ${Math.floor(args.limit)}
           ${pg ? 'FOR UPDATE SKIP LOCKED))' : ')'}
         RETURNING ${o.columnList}`,
        [args.owner, o.value('syncLeaseUntil', args.leaseUntil), args.provider, now, now],
      ),
    );
    return rows.map((r) => o.decode(r)).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** An unknown order reconciliation did not settle this time: released, tried again at `next`. */
  async releaseUnknown(owner: string, orderId: string, next: Date): Promise<void> {
    const o = this.db.codec(FulfilmentOrder);
    await this.db.autocommit((s) =>
      s.run(`UPDATE ${o.table} SET sync_lease_owner = NULL, sync_lease_until = NULL, next_sync_at = ? WHERE id = ? AND sync_lease_owner = ?`, [o.value('nextSyncAt', next), orderId, owner]),
    );
  }

  /** `provider`'s unknown orders whose create sent `signature` (through the partial index of unknown orders). */
  async unknownOrdersWithSignature(provider: ProviderName, signature: string): Promise<FulfilmentOrder[]> {
    return this.db.autocommit((s) => this.selectOrders(s, `provider = ? AND status = 'unknown' AND provider_order_id IS NULL AND create_signature = ? ORDER BY created_at`, [provider, signature], false));
  }

  /** Which of `providerOrderIds` local orders already hold. */
  async heldProviderOrderIds(provider: ProviderName, providerOrderIds: string[]): Promise<Set<string>> {
    if (providerOrderIds.length === 0) return new Set();
    const o = this.db.codec(FulfilmentOrder);
    const rows = await this.db.autocommit((s) =>
      s.all(`SELECT provider_order_id FROM ${o.table} WHERE provider = ? AND provider_order_id IN (${marks(providerOrderIds.length)})`, [provider, ...providerOrderIds]),
    );
    return new Set(rows.map((r) => String(r.provider_order_id)));
  }

  // --- observations --------------------------------------------------------------------------

  /** Applies what the provider said of one order (an API answer or a refresh), in its own transaction. */
  observe(provider: ProviderName, providerOrderId: string, observation: OrderObservation, source: StatusChangeSource, actor: string | null = null): Promise<ObserveResult> {
    return this.changeOrder('provider = ? AND provider_order_id = ?', [provider, providerOrderId], () => ({ observation, source, forceWrite: false }), undefined, actor);
  }

  /** One order read under lock, changed by `prepare` and the state machine, written, its events published after commit. */
  private async changeOrder(
    where: string,
    params: unknown[],
    prepare: (order: FulfilmentOrder) => { observation: OrderObservation; source: StatusChangeSource; forceWrite: boolean },
    andThen?: (s: Session, changes: Changes, order: FulfilmentOrder) => Promise<void>,
    actor: string | null = null,
  ): Promise<ObserveResult> {
    const changes = new Changes(actor);
    const result = await this.db.transaction(async (s): Promise<ObserveResult> => {
      const stored = await this.selectOrder(s, where, params, true);
      if (!stored) return { outcome: 'unmatched' };
      const order = Object.assign(new FulfilmentOrder(), stored);
      changes.loaded.set(stored.id, stored);
      const { observation, source, forceWrite } = prepare(order);
      const outcome = this.applyObservation(changes, order, observation, source, new Date(), forceWrite);
      await andThen?.(s, changes, changes.orders.get(order.id) ?? order);
      await this.writeChanges(s, changes);
      return { outcome, order: changes.orders.get(order.id) ?? stored };
    });
    this.publish(changes);
    return result;
  }

  /**
   * The state machine's decision on `order`, recorded in `changes` (not yet written). The order in
   * `changes` is the one later observations of the same transaction see.
   */
  private applyObservation(changes: Changes, order: FulfilmentOrder, observation: OrderObservation, source: StatusChangeSource, now: Date, forceWrite = false): ObservationOutcome {
    if (!changes.loaded.has(order.id)) changes.loaded.set(order.id, order);
    const current = changes.orders.get(order.id) ?? order;
    const decision = decide(current, observation);
    if (decision.outcome === 'stale') {
      this.logger.debug(`order ${order.id}: ignored ${source} observation (${decision.reason})`);
      if (forceWrite) changes.orders.set(order.id, current);
      return 'stale';
    }
    if (decision.unknownProviderStatus) {
      this.logger.warn(`order ${order.id}: unknown ${order.provider} status "${decision.next.providerStatus}" kept; normalised status unchanged`);
    }
    if (!decision.write && !forceWrite) return decision.outcome;
    const next = Object.assign(new FulfilmentOrder(), current, decision.next, { updatedAt: now });
    if (decision.outcome === 'applied') {
      next.version = current.version + 1;
      next.nextSyncAt = nextSyncAt({ status: next.status, changed: true, quietForMs: 0, failures: 0 }, now, this.settings.syncIntervalMs);
      next.syncFailures = 0;
      this.recordChange(changes, current, next, source, observation.providerTimestamp ?? null);
    } else {
      changes.orders.set(order.id, next);
    }
    return decision.outcome;
  }

  /** A status change: the new row, its history row and its event. */
  private recordChange(changes: Changes, before: FulfilmentOrder | null, after: FulfilmentOrder, source: StatusChangeSource, providerTimestamp: Date | null): void {
    changes.orders.set(after.id, after);
    const row: OrderStatusHistory = Object.assign(new OrderStatusHistory(), {
      id: timeOrderedId(),
      orderId: after.id,
      fromStatus: before?.status ?? null,
      toStatus: after.status,
      fromProviderStatus: before?.providerStatus ?? null,
      toProviderStatus: after.providerStatus,
      source,
      providerTimestamp,
      // Only on the operator's own rows: late events its action applied keep their source and no actor.
      actor: source === 'ops' ? changes.actor : null,
      createdAt: after.updatedAt,
    });
    changes.history.push(row);
    // The event says what the history row says, in the event's own (public) names.
    const { fromStatus: previousStatus, toStatus: status, fromProviderStatus: previousProviderStatus, toProviderStatus: providerStatus, createdAt: occurredAt } = row;
    const { id: orderId, provider, providerOrderId, hostReference } = after;
    const event: Omit<OrderStatusChangedEvent, 'eventId'> = { orderId, provider, providerOrderId, hostReference, previousStatus, status, previousProviderStatus, providerStatus, source, occurredAt };
    changes.events.push({ name: FulfilmentEvents.OrderStatusChanged, payload: event });
  }

  // --- the webhook inbox ---------------------------------------------------------------------

  /**
   * Stores received events and applies them, all in ONE transaction (statements per batch, not per
   * event). An event whose dedup key is stored already is a duplicate: acknowledged, not applied.
   * If anything in the batch fails (an event that cannot be applied, a deadlock, a copy committed
   * by another writer meanwhile), it is rolled back and each event is committed on its own, where a
   * failing one is stored as `failed` without taking the others down. Rejects only when the
   * database refuses even that (the provider then gets a 500 and delivers again).
   */
  async recordInbox(batch: InboxWrite[]): Promise<Array<InboxResult | InboxRefused>> {
    try {
      return await this.inboxBatch(batch);
    } catch (err) {
      if (batch.length === 1) return [await this.storeAlone(batch[0], err).catch((refused: unknown) => ({ refused }))];
    }
    const results: Array<InboxResult | InboxRefused> = [];
    for (const write of batch) {
      try {
        results.push((await this.inboxBatch([write]))[0]);
      } catch (err) {
        results.push(await this.storeAlone(write, err).catch((refused: unknown) => ({ refused })));
      }
    }
    return results;
  }

  /** Whether several transactions may write at once (PostgreSQL); SQLite has one writer. */
  get concurrentWriters(): boolean {
    return this.db.postgres;
  }

  /**
   * On PostgreSQL a batch of order events first tries the optimistic path (two round trips); any
   * other batch, and one the optimistic path gives up on, takes the locked transaction.
   */
  private async inboxBatch(batch: InboxWrite[]): Promise<InboxResult[]> {
    if (this.db.postgres && batch.every((w) => w.effect.order && !w.effect.prescription && !w.effect.confirmsRegistration)) {
      const done = await this.inboxOptimistic(batch);
      if (done) return done;
    }
    return this.inboxLocked(batch);
  }

  /**
   * One transaction: the stored keys read, the batch's orders read under lock, each event decided
   * and applied in arrival order, everything written with one statement per table.
   */
  private async inboxLocked(batch: InboxWrite[]): Promise<InboxResult[]> {
    const changes = new Changes();
    const results = await this.db.transaction(async (s) => {
      const i = this.db.codec(WebhookInboxEvent);
      const keys = [...new Set(batch.map((w) => w.row.dedupKey))];
      const stored = new Set((await s.all(`SELECT dedup_key FROM ${i.table} WHERE dedup_key IN (${marks(keys.length)})`, keys)).map((r) => String(r.dedup_key)));
      const fresh = batch.filter((w) => !stored.has(w.row.dedupKey) && stored.add(w.row.dedupKey));
      let orders = await this.ordersOf(s, fresh, true);
      const missing = fresh.filter((w) => w.effect.order && !orders.has(`${w.effect.order.provider}:${w.effect.order.providerOrderId}`));
      if (missing.length > 0 && this.db.postgres) {
        // Locked, then read again: a linking that committed meanwhile is seen, one in progress waits for us.
        for (const provider of new Set(missing.map((w) => w.effect.order!.provider))) {
          await this.lockUnmatched(s, provider, missing.filter((w) => w.effect.order!.provider === provider).map((w) => w.effect.order!.providerOrderId));
        }
        orders = await this.ordersOf(s, fresh, true);
      }
      const { rows, out } = await this.applyBatch(s, changes, fresh, orders);
      const inserted = await this.writeChanges(s, changes, { last: this.inboxInsert(rows) });
      if (inserted.length !== rows.length) throw new StoredMeanwhile();
      return batch.map((w) => out.get(w) ?? { duplicate: true, outcome: null });
    });
    this.publish(changes);
    return results;
  }

  /**
   * PostgreSQL, order events only: the orders read without a lock, decided, and everything written
   * in ONE autocommitted statement whose order update holds only where each row's version is still
   * the one read. If any row moved meanwhile, or any event was stored before, the statement fails
   * as a whole (nothing written) and undefined sends the batch to the locked path.
   */
  private async inboxOptimistic(batch: InboxWrite[]): Promise<InboxResult[] | undefined> {
    const changes = new Changes();
    const seen = new Set<string>();
    const fresh = batch.filter((w) => !seen.has(w.row.dedupKey) && seen.add(w.row.dedupKey));
    const results = await this.db.autocommit(async (s) => {
      const { rows, out } = await this.applyBatch(s, changes, fresh, await this.ordersOf(s, fresh, false));
      // An unmatched event must be stored in order with its order's linking: the locked path does that.
      if (rows.some((r) => r.outcome === 'unmatched')) return undefined;
      try {
        await this.writeChanges(s, changes, { last: this.inboxInsert(rows), guarded: true });
      } catch (err) {
        if ((err as { code?: string }).code === GUARD_FAILED) return undefined;
        throw err;
      }
      return batch.map((w) => out.get(w) ?? { duplicate: true, outcome: null });
    });
    if (results) this.publish(changes);
    return results;
  }

  /** Each event's effect decided and recorded in `changes`, in arrival order; the inbox rows with their outcomes. */
  private async applyBatch(s: Session, changes: Changes, fresh: InboxWrite[], orders: Map<string, FulfilmentOrder>) {
    const now = new Date();
    const rows: WebhookInboxEvent[] = [];
    const out = new Map<InboxWrite, InboxResult>();
    for (const write of fresh) {
      const outcome = await this.applyEffect(s, changes, orders, write.effect, now);
      rows.push({ ...write.row, outcome, processedAt: now });
      out.set(write, { duplicate: false, outcome });
    }
    return { rows, out };
  }

  private inboxInsert(rows: WebhookInboxEvent[]): { sql: string; params: unknown[] } | undefined {
    if (rows.length === 0) return undefined;
    const i = this.db.codec(WebhookInboxEvent);
    return {
      sql: `INSERT INTO ${i.table} (${i.columnList}) VALUES ${rows.map(() => `(${marks(i.columns.length)})`).join(', ')} ON CONFLICT DO NOTHING RETURNING dedup_key`,
      params: rows.flatMap((r) => i.values(r)),
    };
  }

  /** The orders the batch's events name, in one statement per provider; `lock`: under lock (in id order, so batches never deadlock). */
  private async ordersOf(s: Session, writes: InboxWrite[], lock: boolean): Promise<Map<string, FulfilmentOrder>> {
    const byProvider = new Map<ProviderName, Set<string>>();
    for (const { effect } of writes) {
      if (!effect.order) continue;
      const ids = byProvider.get(effect.order.provider) ?? new Set<string>();
      byProvider.set(effect.order.provider, ids.add(effect.order.providerOrderId));
    }
    const found = new Map<string, FulfilmentOrder>();
    for (const [provider, ids] of byProvider) {
      const rows = await this.selectOrders(s, `provider = ? AND provider_order_id IN (${marks(ids.size)})${lock ? ' ORDER BY id' : ''}`, [provider, ...ids], lock);
      for (const order of rows) found.set(`${provider}:${order.providerOrderId}`, order);
    }
    return found;
  }

  private async applyEffect(s: Session, changes: Changes, orders: Map<string, FulfilmentOrder>, effect: InboxEffect, now: Date): Promise<InboxOutcome> {
    let outcome: InboxOutcome | undefined;
    if (effect.confirmsRegistration) await this.confirm(s, effect.confirmsRegistration, now);
    if (effect.order) {
      const order = orders.get(`${effect.order.provider}:${effect.order.providerOrderId}`);
      outcome = order ? this.applyObservation(changes, order, effect.order.observation, 'webhook', now) : 'unmatched';
      if (outcome === 'unmatched' && effect.confirmsRegistration) outcome = 'test';
    }
    if (effect.prescription) outcome = await this.applyPrescription(s, changes, effect.prescription, now);
    return outcome ?? 'test';
  }

  /**
   * Ids, status and timestamps only. The first status is the receipt; later changes are updates;
   * older than stored is stale. Insert-first, so a concurrent insert (a prescription created
   * through the API) never fails this transaction.
   */
  private async applyPrescription(s: Session, changes: Changes, seen: NonNullable<InboxEffect['prescription']>, now: Date): Promise<InboxOutcome> {
    const p = this.db.codec(Prescription);
    const row: Prescription = { id: randomUUID(), ...seen, createdAt: now, updatedAt: now };
    const inserted = await s.all(`INSERT INTO ${p.table} (${p.columnList}) VALUES (${marks(p.columns.length)}) ON CONFLICT DO NOTHING RETURNING id`, p.values(row));
    if (inserted.length > 0) {
      changes.events.push({ name: FulfilmentEvents.PrescriptionReceived, payload: prescriptionEvent(row, null, now) });
      return 'applied';
    }
    const [existingRow] = await s.all(
      `SELECT ${p.columnList} FROM ${p.table} WHERE provider = ? AND provider_prescription_id = ?${this.db.postgres ? ' FOR UPDATE' : ''}`,
      [seen.provider, seen.providerPrescriptionId],
    );
    const existing = p.decode(existingRow);
    const outcome = decidePrescription(existing, seen);
    if (outcome !== 'applied') return outcome;
    const updated: Prescription = {
      ...existing,
      status: seen.status,
      providerPatientId: existing.providerPatientId ?? seen.providerPatientId,
      providerUpdatedAt: seen.providerUpdatedAt ?? existing.providerUpdatedAt,
      updatedAt: now,
    };
    await s.run(`UPDATE ${p.table} SET status = ?, provider_patient_id = ?, provider_updated_at = ?, updated_at = ? WHERE id = ?`, [
      p.value('status', updated.status),
      p.value('providerPatientId', updated.providerPatientId),
      p.value('providerUpdatedAt', updated.providerUpdatedAt),
      p.value('updatedAt', updated.updatedAt),
      existing.id,
    ]);
    // A row created through the API has no status yet: its first event is the receipt.
    const name = existing.status === null ? FulfilmentEvents.PrescriptionReceived : FulfilmentEvents.PrescriptionUpdated;
    changes.events.push({ name, payload: prescriptionEvent(updated, existing.status, now) });
    return 'applied';
  }

  /** The event on its own failed: a copy committed meanwhile is a duplicate; anything else is stored as failed. */
  private async storeAlone(write: InboxWrite, err: unknown): Promise<InboxResult> {
    if (err instanceof StoredMeanwhile) return { duplicate: true, outcome: null };
    const error = `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`.slice(0, 500);
    const i = this.db.codec(WebhookInboxEvent);
    // Throws when the database refuses even this: nothing is stored, and the caller answers 500.
    const inserted = await this.db.autocommit((s) =>
      s.all(`INSERT INTO ${i.table} (${i.columnList}) VALUES (${marks(i.columns.length)}) ON CONFLICT DO NOTHING RETURNING dedup_key`, i.values({ ...write.row, outcome: 'failed', error, processedAt: new Date() })),
    );
    if (inserted.length === 0) return { duplicate: true, outcome: null };
    this.logger.error(`${write.row.topic} ${write.row.entityId}: applying failed, stored as failed (${error})`);
    return { duplicate: false, outcome: 'failed' };
  }

  // --- webhook registrations -----------------------------------------------------------------

  /** Stores (or replaces) a registration, unconfirmed until its test payload arrives. */
  async storeRegistration(registration: Omit<WebhookRegistration, 'id' | 'confirmedAt'>): Promise<WebhookRegistration> {
    const r = this.db.codec(WebhookRegistration);
    const row: WebhookRegistration = { id: randomUUID(), ...registration, confirmedAt: null };
    const [stored] = await this.db.autocommit((s) =>
      s.all(
        `INSERT INTO ${r.table} (${r.columnList}) VALUES (${marks(r.columns.length)})
         ON CONFLICT (provider, topic) DO UPDATE SET callback_url = excluded.callback_url, secret_fingerprint = excluded.secret_fingerprint,
           registered_at = excluded.registered_at, confirmed_at = NULL
         RETURNING id`,
        r.values(row),
      ),
    );
    return { ...row, id: String(stored.id) };
  }

  /** The provider's webhook registrations (callback URL without its token, secret fingerprint, confirmation). */
  registrations(provider: ProviderName): Promise<WebhookRegistration[]> {
    const r = this.db.codec(WebhookRegistration);
    return this.db.autocommit(async (s) => (await s.all(`SELECT ${r.columnList} FROM ${r.table} WHERE provider = ? ORDER BY topic`, [provider])).map((row) => r.decode(row)));
  }

  /** A registration's test payload arrived again (a byte-identical duplicate after re-registering). */
  confirmRegistration(provider: ProviderName, topic: string): Promise<void> {
    return this.db.autocommit((s) => this.confirm(s, { provider, topic }, new Date()));
  }

  private async confirm(s: Session, { provider, topic }: { provider: ProviderName; topic: string }, at: Date): Promise<void> {
    const r = this.db.codec(WebhookRegistration);
    await s.run(`UPDATE ${r.table} SET confirmed_at = ? WHERE provider = ? AND topic = ? AND confirmed_at IS NULL`, [r.value('confirmedAt', at), provider, topic]);
  }

  // --- patients, locations, prescriptions created through the API ----------------------------

  /** The link for a host reference, created (without a provider id) when there is none. */
  async ensurePatientLink(provider: ProviderName, hostReference: string): Promise<{ link: PatientLink; created: boolean }> {
    const l = this.db.codec(PatientLink);
    const now = new Date();
    const fresh: PatientLink = { id: randomUUID(), provider, hostReference, providerPatientId: null, createdAt: now, updatedAt: now };
    return this.db.transaction(async (s) => {
      await s.run(`INSERT INTO ${l.table} (${l.columnList}) VALUES (${marks(l.columns.length)}) ON CONFLICT DO NOTHING`, l.values(fresh));
      const [row] = await s.all(`SELECT ${l.columnList} FROM ${l.table} WHERE provider = ? AND host_reference = ?`, [provider, hostReference]);
      const link = l.decode(row);
      return { link, created: link.id === fresh.id };
    });
  }

  /** A patient link by its local id or the host's reference. */
  findPatientLink(provider: ProviderName, idOrReference: string): Promise<PatientLink | null> {
    const l = this.db.codec(PatientLink);
    return this.db.autocommit(async (s) => {
      const rows = await s.all(`SELECT ${l.columnList} FROM ${l.table} WHERE provider = ? AND (id = ? OR host_reference = ?) ORDER BY id = ? DESC LIMIT 1`, [
        provider,
        idOrReference,
        idOrReference,
        idOrReference,
      ]);
      return rows[0] ? l.decode(rows[0]) : null;
    });
  }

  async completePatientLink(id: string, providerPatientId: string): Promise<PatientLink> {
    const l = this.db.codec(PatientLink);
    const [row] = await this.db.autocommit((s) =>
      s.all(`UPDATE ${l.table} SET provider_patient_id = ?, updated_at = ? WHERE id = ? RETURNING ${l.columnList}`, [providerPatientId, l.value('updatedAt', new Date()), id]),
    );
    return l.decode(row);
  }

  /** A link whose create was definitely refused: removed, unless it got its provider id meanwhile. */
  async dropIncompletePatientLink(id: string): Promise<void> {
    const l = this.db.codec(PatientLink);
    await this.db.autocommit((s) => s.run(`DELETE FROM ${l.table} WHERE id = ? AND provider_patient_id IS NULL`, [id]));
  }

  async addLocation(location: PatientLocation): Promise<PatientLocation> {
    const c = this.db.codec(PatientLocation);
    await this.db.autocommit((s) => s.run(`INSERT INTO ${c.table} (${c.columnList}) VALUES (${marks(c.columns.length)})`, c.values(location)));
    return location;
  }

  /** A location of the patient link, by its local or its provider id. */
  findLocation(patientLinkId: string, locationId: string): Promise<PatientLocation | null> {
    const c = this.db.codec(PatientLocation);
    return this.db.autocommit(async (s) => {
      const rows = await s.all(`SELECT ${c.columnList} FROM ${c.table} WHERE patient_link_id = ? AND (id = ? OR provider_location_id = ?) LIMIT 1`, [
        patientLinkId,
        locationId,
        locationId,
      ]);
      return rows[0] ? c.decode(rows[0]) : null;
    });
  }

  /** A prescription created through the API; its webhook may have stored it first (that row is returned). */
  async recordCreatedPrescription(provider: ProviderName, providerPrescriptionId: string, providerPatientId: string | null): Promise<Prescription> {
    const p = this.db.codec(Prescription);
    const now = new Date();
    const row: Prescription = { id: randomUUID(), provider, providerPrescriptionId, providerPatientId, status: null, providerUpdatedAt: null, createdAt: now, updatedAt: now };
    return this.db.transaction(async (s) => {
      await s.run(`INSERT INTO ${p.table} (${p.columnList}) VALUES (${marks(p.columns.length)}) ON CONFLICT DO NOTHING`, p.values(row));
      const [stored] = await s.all(`SELECT ${p.columnList} FROM ${p.table} WHERE provider = ? AND provider_prescription_id = ?`, [provider, providerPrescriptionId]);
      return p.decode(stored);
    });
  }

  // --- the status sync's leases --------------------------------------------------------------

  /**
   * Leases up to `limit` due orders of `providers` to `owner` until `leaseUntil`, oldest due first,
   * in ONE statement. Due: next_sync_at <= dueBefore (terminal orders have none), a provider id, no
   * live lease. On PostgreSQL the inner SELECT locks with SKIP LOCKED, so concurrent replicas claim
   * disjoint sets; a lease that expired (its replica died) is claimable again.
   */
  async claimDue(args: { owner: string; providers: ProviderName[]; limit: number; dueBefore: Date; now: Date; leaseUntil: Date }): Promise<ClaimedOrder[]> {
    if (args.providers.length === 0 || args.limit <= 0) return [];
    const o = this.db.codec(FulfilmentOrder);
    const pg = this.db.postgres;
    const terminal = [...TERMINAL_STATUSES];
    // PostgreSQL: `id = ANY(ARRAY(subquery))` makes the due ids an init-plan looked up through the
    // primary key; with `id IN (subquery)` the planner hash-joins against a scan of the whole table.
    const sql = `
      UPDATE ${o.table} SET sync_lease_owner = ?, sync_lease_until = ?
      WHERE id ${pg ? '= ANY(ARRAY(' : 'IN ('}
        SELECT id FROM ${o.table}
        WHERE next_sync_at IS NOT NULL AND next_sync_at <= ?
          AND provider IN (${marks(args.providers.length)})
          AND provider_order_id IS NOT NULL
          AND status NOT IN (${marks(terminal.length)})
          AND (sync_lease_until IS NULL OR sync_lease_until < ?)
        ORDER BY next_sync_at
        LIMIT ${Math.floor(args.limit)}
        ${pg ? 'FOR UPDATE SKIP LOCKED))' : ')'}
      RETURNING ${CLAIMED.map((p) => o.column(p)).join(', ')}`;
    const rows = await this.db.autocommit((s) =>
      s.all(sql, [
        args.owner,
        o.value('syncLeaseUntil', args.leaseUntil),
        o.value('nextSyncAt', args.dueBefore),
        ...args.providers,
        ...terminal,
        o.value('syncLeaseUntil', args.now),
      ]),
    );
    return rows.map((r) => o.decode(r));
  }

  /**
   * Settles what the sync read: the state machine decides each order. Orders it leaves as they are
   * (or stale reads) are released with their next schedule in ONE statement; the others are read
   * again under lock (a webhook may have moved them since the claim), applied and released in ONE
   * transaction, with one multi-row write. Returns how many changed status.
   */
  async settleSynced(owner: string, reads: Array<{ order: ClaimedOrder; observation: OrderObservation }>, tickStart: Date): Promise<number> {
    const quiet: ClaimedOrder[] = [];
    const moving = new Map<string, OrderObservation>();
    for (const { order, observation } of reads) {
      const decision = decide(order, observation);
      if (decision.outcome === 'stale' || !decision.write) quiet.push(order);
      else moving.set(order.id, observation);
    }
    if (quiet.length > 0) {
      await this.releaseSynced(
        owner,
        quiet.map((o) => ({ id: o.id, next: this.schedule(o.status, false, tickStart.getTime() - o.updatedAt.getTime(), 0, tickStart) })),
      );
    }
    if (moving.size === 0) return 0;

    const changes = new Changes();
    let changed = 0;
    await this.db.transaction(async (s) => {
      const now = new Date();
      for (const order of await this.selectOrders(s, `id IN (${marks(moving.size)}) ORDER BY id`, [...moving.keys()], true)) {
        const outcome = this.applyObservation(changes, order, moving.get(order.id)!, 'sync', now, true);
        if (outcome === 'applied') changed++;
        const next = changes.orders.get(order.id)!;
        if (order.syncLeaseOwner !== owner) continue; // the lease expired and moved on: leave the schedule to its holder
        Object.assign(next, {
          syncLeaseOwner: null,
          syncLeaseUntil: null,
          lastSyncedAt: now,
          syncFailures: 0,
          lastError: next.lastError?.startsWith('sync:') ? null : next.lastError,
          nextSyncAt: this.schedule(next.status, outcome === 'applied', outcome === 'applied' ? 0 : tickStart.getTime() - order.updatedAt.getTime(), 0, tickStart),
        });
      }
      await this.writeChanges(s, changes);
    });
    this.publish(changes);
    return changed;
  }

  /** Orders whose read failed: failures + 1, backed off, the reason kept. */
  async releaseFailed(owner: string, orders: ClaimedOrder[], reason: string): Promise<void> {
    if (orders.length === 0) return;
    const now = new Date();
    const groups = this.groups(orders.map((o) => ({ id: o.id, next: this.schedule(o.status, false, 0, o.syncFailures + 1, now) })));
    const { expression, params } = this.nextSyncCase(groups);
    const o = this.db.codec(FulfilmentOrder);
    const ids = orders.map((x) => x.id);
    await this.db.autocommit((s) =>
      s.run(
        `UPDATE ${o.table} SET sync_lease_owner = NULL, sync_lease_until = NULL, sync_failures = sync_failures + 1, last_error = ?, next_sync_at = ${expression}
         WHERE id IN (${marks(ids.length)}) AND sync_lease_owner = ?`,
        [`sync: ${reason}`.slice(0, 500), ...params, ...ids, owner],
      ),
    );
  }

  /** Gives orders back untouched (their provider is paused): due as before, claimable at once. */
  async releaseUntouched(owner: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const o = this.db.codec(FulfilmentOrder);
    await this.db.autocommit((s) =>
      s.run(`UPDATE ${o.table} SET sync_lease_owner = NULL, sync_lease_until = NULL WHERE id IN (${marks(ids.length)}) AND sync_lease_owner = ?`, [...ids, owner]),
    );
  }

  private async releaseSynced(owner: string, orders: Array<{ id: string; next: Date | null }>): Promise<void> {
    const o = this.db.codec(FulfilmentOrder);
    const { expression, params } = this.nextSyncCase(this.groups(orders));
    const ids = orders.map((x) => x.id);
    const now = o.value('lastSyncedAt', new Date());
    await this.db.autocommit((s) =>
      s.run(
        `UPDATE ${o.table} SET sync_lease_owner = NULL, sync_lease_until = NULL, last_synced_at = ?, sync_failures = 0,
           last_error = CASE WHEN last_error LIKE 'sync:%' THEN NULL ELSE last_error END, next_sync_at = ${expression}
         WHERE id IN (${marks(ids.length)}) AND sync_lease_owner = ?`,
        [now, ...params, ...ids, owner],
      ),
    );
  }

  private schedule(status: FulfilmentStatus, changed: boolean, quietForMs: number, failures: number, now: Date): Date | null {
    return nextSyncAt({ status, changed, quietForMs, failures }, now, this.settings.syncIntervalMs);
  }

  /** Orders grouped by their next sync time (few distinct values), for one UPDATE per batch. */
  private groups(orders: Array<{ id: string; next: Date | null }>): Array<{ next: Date | null; ids: string[] }> {
    const groups = new Map<number | null, { next: Date | null; ids: string[] }>();
    for (const { id, next } of orders) {
      const key = next?.getTime() ?? null;
      const group = groups.get(key) ?? { next, ids: [] };
      group.ids.push(id);
      groups.set(key, group);
    }
    return [...groups.values()];
  }

  /** `CASE WHEN status IN (terminal) THEN NULL WHEN id IN (…) THEN ? … END`: one statement for any mix of schedules. */
  private nextSyncCase(groups: Array<{ next: Date | null; ids: string[] }>): { expression: string; params: unknown[] } {
    const o = this.db.codec(FulfilmentOrder);
    const terminal = [...TERMINAL_STATUSES];
    const params: unknown[] = [...terminal];
    const branches = groups.map((g) => {
      params.push(...g.ids);
      if (g.next === null) return `WHEN id IN (${marks(g.ids.length)}) THEN NULL`;
      params.push(o.value('nextSyncAt', g.next));
      return `WHEN id IN (${marks(g.ids.length)}) THEN ${this.db.cast('?', o.pgType('nextSyncAt'))}`;
    });
    return { expression: `CASE WHEN status IN (${marks(terminal.length)}) THEN NULL ${branches.join(' ')} ELSE next_sync_at END`, params };
  }

  // --- metrics and health ----------------------------------------------------------------------

  /** Open (not terminal) orders counted by provider and status: read from ix_fulfilment_orders_open alone. */
  async countOpenOrders(): Promise<Array<{ provider: ProviderName; status: FulfilmentStatus; count: number }>> {
    const o = this.db.codec(FulfilmentOrder);
    const rows = await this.db.autocommit((s) => s.all(`SELECT provider, status, COUNT(*) AS n FROM ${o.table} WHERE ${OPEN_ORDER_CONDITION} GROUP BY provider, status`));
    return rows.map((r) => ({ provider: r.provider as ProviderName, status: r.status as FulfilmentStatus, count: Number(r.n) }));
  }

  /**
   * When the longest-waiting order the sync should have read by `now` was due (what claimDue would
   * lease first, leased or not), or null when none is due: the first entries of ix_fulfilment_orders_due.
   */
  async oldestDueSyncAt(providers: ProviderName[], now: Date): Promise<Date | null> {
    if (providers.length === 0) return null;
    const o = this.db.codec(FulfilmentOrder);
    // SQLite, without statistics, would rather walk the provider id index: every order ever made.
    const due = this.db.postgres ? '' : ' INDEXED BY ix_fulfilment_orders_due';
    const [row] = await this.db.autocommit((s) =>
      s.all(
        `SELECT MIN(next_sync_at) AS next_sync_at FROM ${o.table}${due}
         WHERE next_sync_at IS NOT NULL AND next_sync_at <= ? AND provider IN (${marks(providers.length)}) AND provider_order_id IS NOT NULL`,
        [o.value('nextSyncAt', now), ...providers],
      ),
    );
    return row ? o.decode(row).nextSyncAt : null;
  }

  /** Outbox rows not yet delivered: counted in the partial index ix_fulfilment_outbox_pending alone. */
  async countUndeliveredEvents(): Promise<number> {
    const x = this.db.codec(FulfilmentOutboxEvent);
    const [row] = await this.db.autocommit((s) => s.all(`SELECT COUNT(*) AS n FROM ${x.table} WHERE delivered_at IS NULL`));
    return Number(row.n);
  }

  /** Resolves once the database answered a trivial query (the health check). */
  async ping(): Promise<void> {
    await this.db.autocommit((s) => s.all('SELECT 1 AS ok'));
  }

  // --- the ops console's reads and replays (ops/) -----------------------------------------------
  // Every list is a keyset page (never OFFSET) read through an index of migration 1764700000000,
  // one statement per page, at most `limit` rows (plus one to tell whether a next page exists).

  /**
   * A page of orders. Newest first; with `stuckBefore`: open orders unchanged since then, longest
   * unchanged first. `search` matches the local id, the host reference or a provider id exactly.
   */
  async listOrders(query: OrderListQuery): Promise<{ orders: FulfilmentOrder[]; next: OrderListCursor | null }> {
    const o = this.db.codec(FulfilmentOrder);
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.search !== undefined) {
      // Three indexed lookups (primary key, host reference, provider id per provider) the planner ORs together.
      where.push(`(id = ? OR host_reference = ? OR (provider IN (${marks(query.providers.length)}) AND provider_order_id = ?))`);
      params.push(query.search, query.search, ...query.providers, query.search);
    }
    for (const [column, value] of [['provider', query.provider], ['status', query.status]] as const) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    const stuck = query.stuckBefore !== undefined;
    const at = stuck ? 'updated_at' : 'created_at';
    if (stuck) {
      // Literal, as in the partial index's predicate (a parameter would hide the match from a generic plan).
      where.push(`status NOT IN (${[...TERMINAL_STATUSES].map((t) => `'${t}'`).join(', ')})`, 'updated_at < ?');
      params.push(o.value('updatedAt', query.stuckBefore));
    }
    if (query.after) {
      where.push(`(${at}, id) ${stuck ? '>' : '<'} (${this.db.cast('?', o.pgType('createdAt'))}, ?)`);
      params.push(o.value('createdAt', query.after.at), query.after.id);
    }
    const direction = stuck ? 'ASC' : 'DESC';
    const rows = await this.db.autocommit((s) =>
      this.selectOrders(s, `${where.length ? where.join(' AND ') : 'true'} ORDER BY ${at} ${direction}, id ${direction} LIMIT ${Math.floor(query.limit) + 1}`, params, false),
    );
    const orders = rows.slice(0, query.limit);
    const last = orders[orders.length - 1];
    return { orders, next: rows.length > query.limit && last ? { at: stuck ? last.updatedAt : last.createdAt, id: last.id } : null };
  }

  /** The inbox events about one provider object (an order's events: its provider id under its topics), newest first, at most `limit`. */
  inboxFor(topics: string[], entityId: string, limit: number): Promise<WebhookInboxEvent[]> {
    if (topics.length === 0) return Promise.resolve([]);
    const i = this.db.codec(WebhookInboxEvent);
    return this.db.autocommit(async (s) =>
      (
        await s.all(`SELECT ${i.columnList} FROM ${i.table} WHERE topic IN (${marks(topics.length)}) AND entity_id = ? ORDER BY received_at DESC LIMIT ${Math.floor(limit)}`, [
          ...topics,
          entityId,
        ])
      ).map((r) => i.decode(r)),
    );
  }

  /** A page of inbox events with one outcome, newest first. */
  async listInbox(query: { outcome: InboxOutcome; after?: InboxCursor; limit: number }): Promise<{ events: WebhookInboxEvent[]; next: InboxCursor | null }> {
    const i = this.db.codec(WebhookInboxEvent);
    const params: unknown[] = [query.outcome];
    let after = '';
    if (query.after) {
      after = ` AND (received_at, dedup_key) < (${this.db.cast('?', i.pgType('receivedAt'))}, ?)`;
      params.push(i.value('receivedAt', query.after.at), query.after.dedupKey);
    }
    const rows = await this.db.autocommit((s) =>
      s.all(`SELECT ${i.columnList} FROM ${i.table} WHERE outcome = ?${after} ORDER BY received_at DESC, dedup_key DESC LIMIT ${Math.floor(query.limit) + 1}`, params),
    );
    const events = rows.slice(0, query.limit).map((r) => i.decode(r));
    const last = events[events.length - 1];
    return { events, next: rows.length > query.limit && last ? { at: last.receivedAt, dedupKey: last.dedupKey } : null };
  }

  /** One inbox event by its dedup key. */
  async inboxEvent(dedupKey: string): Promise<WebhookInboxEvent | null> {
    const i = this.db.codec(WebhookInboxEvent);
    const [row] = await this.db.autocommit((s) => s.all(`SELECT ${i.columnList} FROM ${i.table} WHERE dedup_key = ?`, [dedupKey]));
    return row ? i.decode(row) : null;
  }

  /**
   * Where the status sync stands: orders due now and overdue (due before `overdueBefore`), each
   * counted up to `cap` (`capped` when there are more), and the live leases per replica among the
   * `cap` longest-due orders (a claim leases the longest-due first). All through the due index.
   */
  async syncBacklog(now: Date, overdueBefore: Date, cap: number): Promise<SyncBacklog> {
    const o = this.db.codec(FulfilmentOrder);
    const limit = Math.floor(cap);
    const due = (before: Date) =>
      `SELECT count(*) AS n FROM (SELECT 1 FROM ${o.table} WHERE next_sync_at IS NOT NULL AND next_sync_at <= ? LIMIT ${limit + 1}) d`;
    return this.db.autocommit(async (s) => {
      const [dueRow] = await s.all(due(now), [o.value('nextSyncAt', now)]);
      const [overdueRow] = await s.all(due(overdueBefore), [o.value('nextSyncAt', overdueBefore)]);
      const leaseRows = await s.all(
        `SELECT sync_lease_owner, count(*) AS leased, max(sync_lease_until) AS sync_lease_until
         FROM (SELECT sync_lease_owner, sync_lease_until FROM ${o.table} WHERE next_sync_at IS NOT NULL AND next_sync_at <= ? ORDER BY next_sync_at LIMIT ${limit}) d
         WHERE sync_lease_until > ? GROUP BY sync_lease_owner ORDER BY sync_lease_owner`,
        [o.value('nextSyncAt', now), o.value('syncLeaseUntil', now)],
      );
      const count = (row: DbRow) => Math.min(Number(row.n), limit);
      return {
        due: count(dueRow),
        overdue: count(overdueRow),
        capped: Number(dueRow.n) > limit,
        leases: leaseRows.map((r) => {
          const lease = o.decode(r);
          return { owner: String(lease.syncLeaseOwner), orders: Number(r.leased), until: lease.syncLeaseUntil! };
        }),
      };
    });
  }

  /**
   * An operator replays a `failed` or `unmatched` order event: its stored observation is applied
   * again through the state machine (history source `ops`, with the operator), and the inbox row
   * records the new outcome. `conflict` when the event is not an order event of `topics`, or not
   * failed or unmatched (nothing written then); `unmatched` again while no order has its id.
   */
  async replayInbox(dedupKey: string, topics: string[], actor: string): Promise<{ event: WebhookInboxEvent | null; conflict?: string; orderId?: string }> {
    const changes = new Changes(actor);
    const i = this.db.codec(WebhookInboxEvent);
    const result = await this.db.transaction(async (s): Promise<{ event: WebhookInboxEvent | null; conflict?: string; orderId?: string }> => {
      const [row] = await s.all(`SELECT ${i.columnList} FROM ${i.table} WHERE dedup_key = ?${this.db.postgres ? ' FOR UPDATE' : ''}`, [dedupKey]);
      if (!row) return { event: null };
      const event = i.decode(row);
      const statuses = this.settings.statusTables?.[event.provider];
      if (!topics.includes(event.topic) || !statuses) return { event, conflict: `a ${event.topic} event cannot be replayed (only order events)` };
      if (event.outcome !== 'failed' && event.outcome !== 'unmatched') return { event, conflict: `the event is ${event.outcome}: only failed and unmatched events are replayed` };
      await this.lockUnmatched(s, event.provider, [event.entityId]);
      const order = await this.selectOrder(s, 'provider = ? AND provider_order_id = ?', [event.provider, event.entityId], true);
      const now = new Date();
      const outcome: InboxOutcome = order ? this.applyObservation(changes, order, { ...reviveObservation(event.payload), statuses }, 'ops', now) : 'unmatched';
      await this.writeChanges(s, changes);
      await s.run(`UPDATE ${i.table} SET outcome = ?, error = NULL, processed_at = ? WHERE dedup_key = ?`, [outcome, i.value('processedAt', now), dedupKey]);
      return { event: { ...event, outcome, error: null, processedAt: now }, orderId: order?.id };
    });
    this.publish(changes);
    return result;
  }

  // --- retention (issue 15): pruning in bounded batches, and the job lease ---------------------

  /**
   * Deletes up to `limit` rows of `table` older than `before`, oldest first, in ONE autocommitted
   * statement: its row locks last only as long as that statement (on SQLite it is one turn of the
   * write queue, so ingestion's turns interleave with a prune's). PostgreSQL deletes by ctid the rows
   * an index scan found and locked, skipping rows a writer holds (they go in a later run); SQLite by
   * rowid. `from` (the previous batch's `last`) starts the index scan where that batch ended, so a
   * prune never walks again over the index entries it just deleted.
   */
  async pruneBatch(table: PrunableTable, before: Date, limit: number, from: Date | null = null): Promise<{ deleted: number; last: Date | null }> {
    const { codec, time, also } = this.pruneTarget(table);
    const column = `t.${codec.column(time)}`;
    const params: unknown[] = [codec.value(time, before)];
    let where = `${column} < ?`;
    if (from) {
      where += ` AND ${column} >= ?`;
      params.push(codec.value(time, from));
    }
    if (also) {
      where += ` AND ${also.sql}`;
      params.push(...also.params(before));
    }
    const pick = `SELECT ${this.db.postgres ? 't.ctid' : 't.rowid'} FROM ${codec.table} t WHERE ${where} ORDER BY ${column} LIMIT ${Math.floor(limit)}`;
    const sql = this.db.postgres
      ? `DELETE FROM ${codec.table} WHERE ctid = ANY(ARRAY(${pick} FOR UPDATE OF t SKIP LOCKED)) RETURNING ${codec.column(time)}`
      : `DELETE FROM ${codec.table} WHERE rowid IN (${pick}) RETURNING ${codec.column(time)}`;
    const rows = await this.db.autocommit((s) => s.all(sql, params));
    let last: Date | null = null;
    for (const row of rows) {
      const at = codec.decode(row)[time] as Date;
      if (!last || at.getTime() > last.getTime()) last = at;
    }
    return { deleted: rows.length, last };
  }

  /**
   * What each prunable table deletes. Another table is one more entry: its entity and the time
   * column that ages it (rows where it is NULL are never pruned), plus any condition of its own.
   */
  private pruneTarget(table: PrunableTable): PruneTarget {
    switch (table) {
      case 'inbox':
        return { codec: this.db.codec(WebhookInboxEvent), time: 'receivedAt' };
      case 'deliveredEvents':
        // delivered_at is NULL until delivered: an undelivered event is never pruned.
        return { codec: this.db.codec(FulfilmentOutboxEvent), time: 'deliveredAt' };
      case 'terminalHistory': {
        const o = this.db.codec(FulfilmentOrder);
        const terminal = [...TERMINAL_STATUSES];
        return {
          codec: this.db.codec(OrderStatusHistory),
          time: 'createdAt',
          // Only orders terminal since before the cutoff: every history row of such an order is older still.
          also: {
            sql: `EXISTS (SELECT 1 FROM ${o.table} o WHERE o.id = t.order_id AND o.status IN (${marks(terminal.length)}) AND o.updated_at < ?)`,
            params: (before) => [...terminal, o.value('updatedAt', before)],
          },
        };
      }
    }
  }

  /**
   * Claims (or renews) the lease on job `name` for `owner` until `until`, in ONE statement: it takes
   * the lease only if nobody holds it, the holder's lease ran out before `now`, or `owner` holds it
   * already. True when `owner` holds it afterwards. Conflicting claims are ordered by the row's lock
   * (PostgreSQL) or the single writer (SQLite), so two replicas never both succeed.
   */
  async claimJobLease(name: string, owner: string, until: Date, now: Date): Promise<boolean> {
    const l = this.db.codec(JobLease);
    const rows = await this.db.autocommit((s) =>
      s.all(
        `INSERT INTO ${l.table} AS l (${l.columnList}) VALUES (${marks(l.columns.length)})
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
         WHERE l.lease_until < ? OR l.owner = excluded.owner
         RETURNING owner`,
        [...l.values({ name, owner, leaseUntil: until }), l.value('leaseUntil', now)],
      ),
    );
    return rows.length === 1;
  }

  /** Gives the lease up (if `owner` still holds it): another replica may claim it at once. */
  async releaseJobLease(name: string, owner: string): Promise<void> {
    const l = this.db.codec(JobLease);
    await this.db.autocommit((s) => s.run(`UPDATE ${l.table} SET lease_until = ? WHERE name = ? AND owner = ?`, [l.value('leaseUntil', new Date(0)), name, owner]));
  }

  // --- writing -------------------------------------------------------------------------------

  private async selectOrder(s: Session, where: string, params: unknown[], lock: boolean): Promise<FulfilmentOrder | null> {
    return (await this.selectOrders(s, `${where} LIMIT 1`, params, lock))[0] ?? null;
  }

  /** Orders matching `where` (which may end in ORDER BY / LIMIT); `lock` adds FOR UPDATE on PostgreSQL (SQLite has one writer). */
  private async selectOrders(s: Session, where: string, params: unknown[], lock: boolean): Promise<FulfilmentOrder[]> {
    const o = this.db.codec(FulfilmentOrder);
    const rows: DbRow[] = await s.all(`SELECT ${o.columnList} FROM ${o.table} WHERE ${where}${lock && this.db.postgres ? ' FOR UPDATE' : ''}`, params);
    return rows.map((r) => o.decode(r));
  }

  /**
   * Writes what a transaction changed: the changed orders in ONE multi-row UPDATE of the columns
   * that changed (the rows are locked, so this overwrites nothing newer; unchanged indexed columns
   * are left alone), the history rows in ONE INSERT, and `last` (the inbox rows) after them. On
   * PostgreSQL all of it is ONE statement (data-modifying CTEs): one round trip. Returns the rows
   * `last` returns. `update` false: the orders are new and were inserted already.
   */
  private async writeChanges(s: Session, changes: Changes, { update = true, last, guarded = false }: { update?: boolean; last?: { sql: string; params: unknown[] }; guarded?: boolean } = {}): Promise<DbRow[]> {
    const statements: Array<{ with?: string; sql: string; params: unknown[] }> = [];
    const o = this.db.codec(FulfilmentOrder);
    // Each order's changed columns, worked out once.
    const diffs = update
      ? [...changes.orders.values()].map((order) => ({ order, columns: changedColumns(changes.loaded.get(order.id), order) })).filter((d) => d.columns.length > 0)
      : [];
    const orders = diffs.map((d) => d.order);
    const changed = new Set(diffs.flatMap((d) => d.columns));
    // Guarded: every written row's version moves by one, and the write holds only on the version read.
    if (guarded) {
      for (const order of orders) order.version = changes.loaded.get(order.id)!.version + 1;
      changed.add('version');
    }
    if (orders.length > 0) {
      const properties = ORDER_STATE.filter((p) => changed.has(p));
      const columns = properties.map((p) => o.column(p));
      const row = `(${['?', ...(guarded ? [this.db.cast('?', 'integer')] : []), ...properties.map((p) => this.db.cast('?', o.pgType(p)))].join(', ')})`;
      statements.push({
        with: `v (id, ${guarded ? 'read_version, ' : ''}${columns.join(', ')}) AS (VALUES ${orders.map(() => row).join(', ')})`,
        sql: `UPDATE ${o.table} AS t SET ${columns.map((c) => `${c} = v.${c}`).join(', ')} FROM v WHERE t.id = v.id${guarded ? ' AND t.version = v.read_version RETURNING t.id' : ''}`,
        params: orders.flatMap((order) => [order.id, ...(guarded ? [changes.loaded.get(order.id)!.version] : []), ...properties.map((p) => o.value(p, order[p]))]),
      });
    }
    if (changes.history.length > 0) {
      const h = this.db.codec(OrderStatusHistory);
      statements.push({
        sql: `INSERT INTO ${h.table} (${h.columnList}) VALUES ${changes.history.map(() => `(${marks(h.columns.length)})`).join(', ')}`,
        params: changes.history.flatMap((row) => h.values(row)),
      });
    }
    const outbox = this.outboxInsert(changes);
    if (outbox) statements.push(outbox);
    if (last) statements.push(last);
    if (statements.length === 0) return [];
    if (!this.db.postgres) {
      for (const st of statements) {
        const sql = `${st.with ? `WITH ${st.with} ` : ''}${st.sql}`;
        if (st === last) return s.all(sql, st.params);
        await s.run(sql, st.params);
      }
      return [];
    }
    if (guarded) {
      // The counts of what the order update and the inbox insert touched must be all of it; a
      // division by zero otherwise fails the whole statement, so nothing of it is written.
      const updated = orders.length > 0 ? `(SELECT count(*) FROM w0) = ${orders.length}` : 'true';
      const stored = last ? `(SELECT count(*) FROM w${statements.length - 1}) = ${last.params.length / this.db.codec(WebhookInboxEvent).columns.length}` : 'true';
      statements.push({ sql: `SELECT 1 / (CASE WHEN ${updated} AND ${stored} THEN 1 ELSE 0 END) AS ok`, params: [] });
    }
    // PostgreSQL runs every data-modifying CTE to completion, referenced or not.
    const main = statements.pop()!;
    const ctes = statements.flatMap((st, n) => [...(st.with ? [st.with] : []), `w${n} AS (${st.sql})`]);
    if (main.with) ctes.push(main.with);
    return s.all(`${ctes.length ? `WITH ${ctes.join(', ')} ` : ''}${main.sql}`, [...statements.flatMap((st) => st.params), ...main.params]);
  }

  // --- the outbox of domain events ----------------------------------------------------------

  /**
   * The outbox rows of a transaction's events, leased to this replica (which delivers them right
   * after the commit), written by the same statement as the change. Nothing when no emitter is
   * there to receive them.
   */
  private outboxInsert(changes: Changes): { sql: string; params: unknown[] } | undefined {
    if (changes.events.length === 0 || !this.events.enabled) return undefined;
    const x = this.db.codec(FulfilmentOutboxEvent);
    const now = new Date();
    const leaseUntil = new Date(now.getTime() + (this.settings.events?.leaseMs ?? 30_000));
    for (const { name, payload } of changes.events) {
      const eventId = timeOrderedId();
      const event = { eventId, ...payload };
      const row: FulfilmentOutboxEvent = {
        id: eventId,
        name,
        payload: JSON.stringify(event),
        createdAt: now,
        deliveredAt: null,
        leaseOwner: this.instanceId,
        leaseUntil,
        failures: 0,
        lastError: null,
      };
      changes.outbox.push({ row, payload: event });
    }
    return {
      sql: `INSERT INTO ${x.table} (${x.columnList}) VALUES ${changes.outbox.map(() => `(${marks(x.columns.length)})`).join(', ')}`,
      params: changes.outbox.flatMap(({ row }) => x.values(row)),
    };
  }

  /**
   * Domain events of a committed transaction, delivered from their outbox rows in the order they
   * were written. The listeners run now; each row is marked delivered once they all succeeded, or
   * left for redelivery. A failing listener never reaches the caller.
   */
  private publish(changes: Changes): void {
    for (const { row, payload } of changes.outbox) this.deliver(row, payload);
  }

  private deliver(row: FulfilmentOutboxEvent, payload: object): Promise<void> {
    const delivery = this.events.deliver(row.name, payload).then(
      () => this.settle(() => this.settled.delivered.push(row.id)),
      (err: unknown) => {
        const error = `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`.slice(0, 500);
        this.logger.warn(`event ${row.id} (${row.name}): a listener failed (${error}); it will be delivered again`);
        this.settle(() => this.settled.failed.push({ id: row.id, failures: row.failures + 1, error }));
      },
    );
    this.delivering.add(delivery);
    return delivery.finally(() => this.delivering.delete(delivery));
  }

  /**
   * Queues a settlement; what one event-loop turn settled is written in one statement per kind.
   * Writes run one after another on `settling`.
   */
  private settle(add: () => void): void {
    add();
    if (this.settleQueued) return;
    this.settleQueued = true;
    this.settleWrites++;
    this.settling = this.settling
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => this.writeSettled())
      .finally(() => this.settleWrites--);
  }

  private async writeSettled(): Promise<void> {
    this.settleQueued = false;
    const delivered = this.settled.delivered.splice(0);
    const failed = this.settled.failed.splice(0);
    const x = this.db.codec(FulfilmentOutboxEvent);
    const now = new Date();
    try {
      if (delivered.length > 0) {
        await this.db.autocommit((s) =>
          s.run(`UPDATE ${x.table} SET delivered_at = ?, lease_owner = NULL, lease_until = NULL WHERE id IN (${marks(delivered.length)})`, [x.value('deliveredAt', now), ...delivered]),
        );
      }
      for (const { id, failures, error } of failed) {
        // Backed off: 1 s, 2 s, 4 s … up to 5 minutes, then claimable by any replica.
        const retryAt = new Date(now.getTime() + Math.min(1000 * 2 ** (failures - 1), 300_000));
        await this.db.autocommit((s) =>
          s.run(`UPDATE ${x.table} SET failures = ?, last_error = ?, lease_owner = NULL, lease_until = ? WHERE id = ? AND delivered_at IS NULL`, [failures, error, x.value('leaseUntil', retryAt), id]),
        );
      }
    } catch (err) {
      // Not marked: the rows are delivered again once their lease ends (at least once).
      this.logger.warn(`could not mark ${delivered.length + failed.length} delivered event(s): ${(err as Error).message}`);
    }
  }

  /** Waits until every delivery under way has settled and its settlement is written (on shutdown, and in tests). */
  async flushDeliveries(): Promise<void> {
    while (this.delivering.size > 0 || this.settleWrites > 0) {
      await Promise.all(this.delivering);
      await this.settling;
    }
  }

  /**
   * Delivers events left undelivered: their replica died before marking them, or a listener failed.
   * Claims up to `limit` rows whose lease ended, oldest first, in ONE statement (on PostgreSQL with
   * SKIP LOCKED, so two replicas never claim one row), delivers them one after another in the order
   * they were written, and marks them. Returns how many it claimed.
   */
  async redeliverPending(limit = 100): Promise<number> {
    if (!this.events.enabled) return 0;
    const x = this.db.codec(FulfilmentOutboxEvent);
    const pg = this.db.postgres;
    const now = new Date();
    const leaseUntil = new Date(now.getTime() + (this.settings.events?.leaseMs ?? 30_000));
    const rows = (
      await this.db.autocommit((s) =>
        s.all(
          `UPDATE ${x.table} SET lease_owner = ?, lease_until = ?
           WHERE id ${pg ? '= ANY(ARRAY(' : 'IN ('}
             SELECT id FROM ${x.table}
             WHERE delivered_at IS NULL AND (lease_until IS NULL OR lease_until < ?) AND failures < ?
             ORDER BY id LIMIT ${Math.floor(limit)}
             ${pg ? 'FOR UPDATE SKIP LOCKED))' : ')'}
           RETURNING ${x.columnList}`,
          [this.instanceId, x.value('leaseUntil', leaseUntil), x.value('leaseUntil', now), this.settings.events?.maxFailures ?? 10],
        ),
      )
    )
      .map((r) => x.decode(r))
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    for (const row of rows) await this.deliver(row, reviveEvent(row.payload));
    await this.flushDeliveries();
    return rows.length;
  }
}

/** An outbox payload as listeners got it first: its instants as Dates again. */
function reviveEvent(payload: string): object {
  const event = JSON.parse(payload) as Record<string, unknown>;
  for (const key of ['occurredAt']) if (typeof event[key] === 'string') event[key] = new Date(event[key] as string);
  return event;
}

function prescriptionEvent(p: Prescription, previousStatus: string | null, at: Date): Omit<PrescriptionEvent, 'eventId'> {
  return {
    prescriptionId: p.id,
    provider: p.provider,
    providerPrescriptionId: p.providerPrescriptionId,
    providerPatientId: p.providerPatientId,
    previousStatus,
    status: p.status,
    occurredAt: at,
  };
}

/** The state columns whose value differs between the row as read and as it is to be written. */
function changedColumns(before: FulfilmentOrder | undefined, after: FulfilmentOrder): string[] {
  if (!before) return [...ORDER_STATE];
  return ORDER_STATE.filter((p) => {
    const a = before[p] as unknown;
    const b = after[p] as unknown;
    return a instanceof Date || b instanceof Date ? (a as Date | null)?.getTime() !== (b as Date | null)?.getTime() : a !== b;
  });
}

/**
 * A UUID whose first 48 bits are the time in ms (the version 7 layout of RFC 9562): history rows
 * written together land on the same page of the primary-key index instead of one random page each.
 */
let lastIdMs = 0;
let idCounter = 0;
function timeOrderedId(): string {
  const bytes = randomBytes(16);
  // Within one millisecond a 12-bit counter follows the time (RFC 9562, method 1), so ids made by
  // one process sort in the order they were made: the outbox delivers in that order.
  const now = Date.now();
  if (now > lastIdMs) [lastIdMs, idCounter] = [now, 0];
  else if (++idCounter > 0xfff) [lastIdMs, idCounter] = [lastIdMs + 1, 0]; // borrows the next millisecond
  bytes.writeUIntBE(lastIdMs, 0, 6);
  bytes.writeUInt16BE(0x7000 | idCounter, 6);
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** An order event's observation as its inbox row keeps it (dates as ISO text). */
export function storedObservation({ statuses: _statuses, ...kept }: OrderObservation): string {
  return JSON.stringify(kept satisfies StoredObservation);
}

function reviveObservation(payload: string): StoredObservation {
  const kept = JSON.parse(payload) as Record<string, unknown>;
  for (const key of ['providerTimestamp', 'eta'] as const) if (typeof kept[key] === 'string') kept[key] = new Date(kept[key] as string);
  return kept as unknown as StoredObservation;
}
