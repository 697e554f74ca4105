import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { FULFILMENT_DATA_SOURCE } from '../fulfilment.constants.js';
import { CaryRxFulfilment } from '../caryrx/caryrx-fulfilment.service.js';
import { ScriptDropFulfilment } from '../scriptdrop/scriptdrop-fulfilment.service.js';
import { FulfilmentOrder } from './entities/fulfilment-order.entity.js';
import { OrderStatusHistory } from './entities/order-status-history.entity.js';
import { FulfilmentNotFoundError, FulfilmentUnsupportedOperationError } from './fulfilment-errors.js';
import { toHistoryEntry, toOrderView, type FulfilmentOrderHistoryEntry, type FulfilmentOrderView } from './order-views.js';

/**
 * The host's entry point: `fulfilment.caryrx` for pharmacy orders (patients, locations,
 * prescriptions, orders, webhook registration), `fulfilment.scriptdrop` for courier deliveries, and
 * provider-agnostic reads and actions on the stored orders. Orders come out as FulfilmentOrderView,
 * never as table rows.
 */
@Injectable()
export class FulfilmentService {
  constructor(
    readonly caryrx: CaryRxFulfilment,
    readonly scriptdrop: ScriptDropFulfilment,
    @Inject(FULFILMENT_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  /** The stored order; FulfilmentNotFoundError when there is none. */
  async getOrder(orderId: string): Promise<FulfilmentOrderView> {
    return toOrderView(await this.load(orderId));
  }

  async findOrderByIdempotencyKey(idempotencyKey: string): Promise<FulfilmentOrderView | null> {
    const order = await this.dataSource.manager.findOne(FulfilmentOrder, { where: { idempotencyKey } });
    return order && toOrderView(order);
  }

  /** Every status change of the order, oldest first; FulfilmentNotFoundError when there is no such order. */
  async getOrderHistory(orderId: string): Promise<FulfilmentOrderHistoryEntry[]> {
    await this.load(orderId);
    const rows = await this.dataSource.manager.find(OrderStatusHistory, { where: { orderId }, order: { createdAt: 'ASC' } });
    return rows.map(toHistoryEntry);
  }

  /** Reads the order at its provider now and applies what changed (same path as webhooks and the sync). */
  async refreshOrder(orderId: string): Promise<FulfilmentOrderView> {
    const order = await this.load(orderId);
    return order.provider === 'caryrx' ? this.caryrx.refreshOrder(orderId) : this.scriptdrop.refresh(orderId);
  }

  /**
   * Cancels the order at its provider. ScriptDrop cancels deliveries that are `new` or
   * `submitted to courier`; a terminal order is refused with OrderStateError without a call. The
   * CaryRx API documents no cancellation: FulfilmentUnsupportedOperationError, nothing sent.
   */
  async cancelOrder(orderId: string): Promise<FulfilmentOrderView> {
    const order = await this.load(orderId);
    if (order.provider === 'caryrx') {
      throw new FulfilmentUnsupportedOperationError(
        'caryrx',
        'cancel order',
        'CaryRx orders cannot be cancelled through the API (the CaryRx document has no cancel endpoint)',
      );
    }
    return this.scriptdrop.cancel(orderId);
  }

  private async load(orderId: string): Promise<FulfilmentOrder> {
    const order = await this.dataSource.manager.findOne(FulfilmentOrder, { where: { id: orderId } });
    if (!order) throw new FulfilmentNotFoundError(`order ${orderId} not found`);
    return order;
  }
}
