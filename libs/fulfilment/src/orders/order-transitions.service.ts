import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { FULFILMENT_DATA_SOURCE, RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import type { ProviderName } from '../http/provider-errors.js';
import { FulfilmentOrder } from './entities/fulfilment-order.entity.js';
import { OrderStatusHistory, type StatusChangeSource } from './entities/order-status-history.entity.js';
import { FulfilmentEvents, type OrderStatusChangedEvent } from './fulfilment-events.js';
import { decideTransition, type StatusObservation } from './order-status.js';
import { nextSyncAt } from './sync-schedule.js';
import { runTransaction } from './sqlite-serialiser.js';
import { findOneRow, insertRow, updateRow } from './row-sql.js';
import { FulfilmentEventBus } from './fulfilment-event-bus.js';

/**
 * The order's tracking details an observation may carry. Undefined: not sent, keep what is stored.
 * They follow the status rule: a stale observation (older than the stored state) changes none.
 */
const TEXT_DETAILS = ['trackingUrl', 'trackingNumber', 'serviceLevel', 'packagingMethod', 'samedayLocationX', 'samedayLocationY'] as const;
type TextDetail = (typeof TEXT_DETAILS)[number];
export type OrderDetails = Pick<FulfilmentOrder, TextDetail | 'eta'>;

/** What a webhook, a sync read or an API answer saw of an order at the provider. */
export interface OrderObservation extends StatusObservation, Partial<OrderDetails> {}

/** The details of `o` that differ from what `order` holds (empty: nothing to write). */
export function changedDetails(order: OrderDetails, o: OrderObservation): Partial<OrderDetails> {
  const details: Partial<OrderDetails> = {};
  for (const key of TEXT_DETAILS) {
    const value = o[key];
    if (value !== undefined && value !== order[key]) details[key] = value;
  }
  if (o.eta !== undefined && (o.eta?.getTime() ?? null) !== (order.eta?.getTime() ?? null)) details.eta = o.eta;
  return details;
}

export interface TransitionResult {
  outcome: 'applied' | 'same' | 'stale' | 'not_found';
  order?: FulfilmentOrder;
  /** Present when applied: publish it after the transaction commits. */
  event?: OrderStatusChangedEvent;
}

/**
 * The one transition path: webhooks, the status sync and API calls all move orders through here,
 * so the state machine, the history row and the event are always written the same way.
 */
@Injectable()
export class OrderTransitionService {
  private readonly logger = new Logger('Fulfilment:Orders');

  constructor(
    @Inject(FULFILMENT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedFulfilmentOptions,
    private readonly events: FulfilmentEventBus,
  ) {}

  /** Applies an observation in its own transaction and publishes the event after commit. */
  async observe(
    provider: ProviderName,
    providerOrderId: string,
    observation: OrderObservation,
    source: StatusChangeSource,
  ): Promise<TransitionResult> {
    const result = await runTransaction(this.dataSource, (manager) =>
      this.applyByProviderId(manager, provider, providerOrderId, observation, source),
    );
    this.publish(result);
    return result;
  }

  async applyByProviderId(
    manager: EntityManager,
    provider: ProviderName,
    providerOrderId: string,
    observation: OrderObservation,
    source: StatusChangeSource,
  ): Promise<TransitionResult> {
    // Hot path of every webhook and sync read: cached SQL instead of a query builder per call.
    const order = await findOneRow(manager, FulfilmentOrder, { provider, providerOrderId }, { forUpdate: true });
    if (!order) return { outcome: 'not_found' };
    return this.apply(manager, order, observation, source);
  }

  /**
   * Applies an observation to a loaded order inside the caller's transaction. The caller must have
   * read `order` in that same transaction (locked on PostgreSQL, see rowLock) and must call
   * publish() with the result once the transaction has committed.
   */
  async apply(
    manager: EntityManager,
    order: FulfilmentOrder,
    observation: OrderObservation,
    source: StatusChangeSource,
    now = new Date(),
  ): Promise<TransitionResult> {
    const decision = decideTransition(order, observation);
    const details = changedDetails(order, observation);
    if (decision.kind === 'stale') {
      this.logger.debug(`order ${order.id}: ignored ${source} observation (${decision.reason})`);
      return { outcome: 'stale', order };
    }
    if (decision.kind === 'same') {
      if (Object.keys(details).length > 0) {
        await updateRow(manager, FulfilmentOrder, { id: order.id }, { ...details, updatedAt: now });
        Object.assign(order, details, { updatedAt: now });
      }
      return { outcome: 'same', order };
    }

    const providerStatus = observation.providerStatus.trim().toLowerCase();
    if (!decision.knownProviderStatus) {
      this.logger.warn(`order ${order.id}: unknown ${order.provider} status "${providerStatus}" kept; normalised status unchanged`);
    }
    const previous = { status: order.status, providerStatus: order.providerStatus };
    const timestamp = observation.providerTimestamp ?? null;
    const changes: Partial<FulfilmentOrder> = {
      ...details,
      status: decision.status,
      providerStatus,
      providerUpdatedAt:
        timestamp && (!order.providerUpdatedAt || timestamp > order.providerUpdatedAt) ? timestamp : order.providerUpdatedAt,
      version: order.version + 1,
      updatedAt: now,
      nextSyncAt: nextSyncAt(
        { status: decision.status, changed: true, quietForMs: 0, failures: 0 },
        now,
        this.options.sync.intervalMs,
      ),
      syncFailures: 0,
    };
    await updateRow(manager, FulfilmentOrder, { id: order.id }, changes);
    Object.assign(order, changes);
    await insertRow(manager, OrderStatusHistory, {
      id: randomUUID(),
      orderId: order.id,
      fromStatus: previous.status,
      toStatus: order.status,
      fromProviderStatus: previous.providerStatus,
      toProviderStatus: providerStatus,
      source,
      providerTimestamp: timestamp,
      createdAt: now,
    });
    return {
      outcome: 'applied',
      order,
      event: {
        orderId: order.id,
        provider: order.provider,
        providerOrderId: order.providerOrderId,
        hostReference: order.hostReference,
        previousStatus: previous.status,
        status: order.status,
        previousProviderStatus: previous.providerStatus,
        providerStatus,
        source,
        occurredAt: now,
      },
    };
  }

  /**
   * Records a status set by the module itself (order created, create outcome unknown) with its
   * history row, inside the caller's transaction.
   */
  async recordInitial(manager: EntityManager, order: FulfilmentOrder, source: StatusChangeSource): Promise<OrderStatusChangedEvent> {
    await insertRow(manager, OrderStatusHistory, {
      id: randomUUID(),
      orderId: order.id,
      fromStatus: null,
      toStatus: order.status,
      fromProviderStatus: null,
      toProviderStatus: order.providerStatus,
      source,
      providerTimestamp: null,
      createdAt: order.updatedAt,
    });
    return {
      orderId: order.id,
      provider: order.provider,
      providerOrderId: order.providerOrderId,
      hostReference: order.hostReference,
      previousStatus: null,
      status: order.status,
      previousProviderStatus: null,
      providerStatus: order.providerStatus,
      source,
      occurredAt: order.updatedAt,
    };
  }

  /** Emits the domain event of a committed transition. A failing listener never reaches the caller. */
  publish(result: Pick<TransitionResult, 'event'> | OrderStatusChangedEvent | undefined): void {
    const event = result && 'orderId' in result ? result : result?.event;
    if (event) this.events.emit(FulfilmentEvents.OrderStatusChanged, event);
  }

  /** Row lock for read-modify-write on PostgreSQL; SQLite serialises writers by itself. */
  rowLock(manager: EntityManager): { lock?: { mode: 'pessimistic_write' } } {
    return manager.connection.options.type === 'postgres' ? { lock: { mode: 'pessimistic_write' } } : {};
  }
}
