import { Injectable, Logger } from '@nestjs/common';
import { CaryRxFulfilment } from './caryrx/caryrx-fulfilment.service.js';
import { CaryRxReconciliation } from './caryrx/caryrx-reconciliation.js';
import { ScriptDropFulfilment } from './scriptdrop/scriptdrop-fulfilment.service.js';
import type { FulfilmentOrder } from './orders/entities/fulfilment-order.entity.js';
import { FulfilmentNotFoundError, FulfilmentUnsupportedOperationError, FulfilmentValidationError, OrderStateError } from './orders/fulfilment-errors.js';
import { validateId } from './validation.js';
import { OrderStore } from './orders/order-store.js';
import { toHistoryEntry, toOrderView, type FulfilmentOrderHistoryEntry, type FulfilmentOrderView } from './orders/order-views.js';

/**
 * Who asks for an action, recorded on the history rows it writes: the ops console passes
 * `{ source: 'ops', actor }`. Without it an action is recorded as source `api` (refresh: `sync`, as a sync read).
 */
export interface FulfilmentActionContext {
  source: 'ops';
  /** The operator's name (from the console's access check). */
  actor: string;
}

/**
 * The host's entry point: `fulfilment.caryrx` for pharmacy orders (patients, locations,
 * prescriptions, orders, webhook registration), `fulfilment.scriptdrop` for courier deliveries, and
 * provider-agnostic reads and actions on the stored orders. Orders come out as FulfilmentOrderView,
 * never as table rows.
 */
@Injectable()
export class FulfilmentService {
  private readonly logger = new Logger('Fulfilment:Orders');

  constructor(
    readonly caryrx: CaryRxFulfilment,
    readonly scriptdrop: ScriptDropFulfilment,
    private readonly store: OrderStore,
    private readonly reconciliation: CaryRxReconciliation,
  ) {}

  /** The stored order; FulfilmentNotFoundError when there is none. */
  async getOrder(orderId: string): Promise<FulfilmentOrderView> {
    return toOrderView(await this.load(orderId));
  }

  async findOrderByIdempotencyKey(idempotencyKey: string): Promise<FulfilmentOrderView | null> {
    const order = await this.store.getOrderByIdempotencyKey(idempotencyKey);
    return order && toOrderView(order);
  }

  /** Every status change of the order, oldest first; FulfilmentNotFoundError when there is no such order. */
  async getOrderHistory(orderId: string): Promise<FulfilmentOrderHistoryEntry[]> {
    await this.load(orderId);
    return (await this.store.history(orderId)).map(toHistoryEntry);
  }

  /** Reads the order at its provider now and applies what changed (same path as webhooks and the sync). */
  async refreshOrder(orderId: string, context?: FulfilmentActionContext): Promise<FulfilmentOrderView> {
    const order = await this.load(orderId);
    return order.provider === 'caryrx' ? this.caryrx.refreshOrder(orderId, context) : this.scriptdrop.refresh(orderId, context);
  }

  /**
   * Cancels the order at its provider. ScriptDrop cancels deliveries that are `new` or
   * `submitted to courier`; a terminal order is refused with OrderStateError without a call. The
   * CaryRx API documents no cancellation: FulfilmentUnsupportedOperationError, nothing sent.
   */
  async cancelOrder(orderId: string, context?: FulfilmentActionContext): Promise<FulfilmentOrderView> {
    const order = await this.load(orderId);
    if (order.provider === 'caryrx') {
      throw new FulfilmentUnsupportedOperationError(
        'caryrx',
        'cancel order',
        'CaryRx orders cannot be cancelled through the API (the CaryRx document has no cancel endpoint)',
      );
    }
    return this.scriptdrop.cancel(orderId, context);
  }

  /**
   * Resolves an order whose create outcome is `unknown`, for an operator who checked at the provider:
   * `{ providerOrderId }` links it to the order found there and reads its status now (history and
   * event as any change; a failed read is left to the sync); `{ notCreated: true }` closes it as
   * `not_created` (terminal, with its history row and event). OrderStateError (409) when the order is
   * not unknown, or another order holds that provider id; nothing is sent or written then.
   */
  async resolveUnknown(orderId: string, resolution: { providerOrderId: string } | { notCreated: true }, context?: FulfilmentActionContext): Promise<FulfilmentOrderView> {
    const operation = 'resolve unknown order';
    const providerOrderId = 'providerOrderId' in (resolution ?? {}) ? validateId((resolution as { providerOrderId: unknown }).providerOrderId, operation, 64, 'providerOrderId') : undefined;
    if (providerOrderId === undefined && (resolution as { notCreated?: unknown })?.notCreated !== true) {
      throw new FulfilmentValidationError(operation, [{ path: '(resolution)', message: 'must be { providerOrderId } or { notCreated: true }' }]);
    }
    await this.load(orderId);
    const { order, conflict } = await this.store.resolveUnknown(orderId, providerOrderId !== undefined ? { providerOrderId } : { notCreated: true }, context ?? { source: 'api', actor: null });
    if (!order) throw new FulfilmentNotFoundError(`order ${orderId} not found`);
    if (conflict) throw new OrderStateError(order, conflict);
    if (providerOrderId === undefined) return toOrderView(order);
    try {
      return await this.refreshOrder(orderId, context);
    } catch (err) {
      this.logger.warn(`order ${orderId}: linked to ${order.provider} ${providerOrderId}; reading it failed (${(err as Error).message}), the sync will`);
      return toOrderView(order);
    }
  }

  /**
   * Looks for the provider's order of an `unknown` CaryRx order now, as the sync does on each tick
   * (see README, "Orders whose create outcome is unknown"): linked and its status applied when found,
   * closed as `not_created` when the reconciliation window has passed, otherwise left unknown.
   * Returns the order as stored afterwards. ScriptDrop documents no search:
   * FulfilmentUnsupportedOperationError (resolve it with resolveUnknown); OrderStateError (409) when
   * the order is not unknown.
   */
  async reconcileUnknown(orderId: string): Promise<FulfilmentOrderView> {
    const order = await this.load(orderId);
    if (order.provider !== 'caryrx') {
      throw new FulfilmentUnsupportedOperationError(order.provider, 'reconcile unknown order', 'ScriptDrop documents no way to search its orders: resolve the order with resolveUnknown()');
    }
    if (order.status !== 'unknown' || order.providerOrderId) throw new OrderStateError(order, `order ${orderId} is ${order.status}, not unknown`);
    await this.reconciliation.reconcile(order);
    return this.getOrder(orderId);
  }

  private async load(orderId: string): Promise<FulfilmentOrder> {
    const order = await this.store.getOrder(orderId);
    if (!order) throw new FulfilmentNotFoundError(`order ${orderId} not found`);
    return order;
  }
}
