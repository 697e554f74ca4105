import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { FULFILMENT_DATA_SOURCE } from '../fulfilment.constants.js';
import { CaryRxFulfilment } from '../caryrx/caryrx-fulfilment.service.js';
import { ScriptDropFulfilment } from '../scriptdrop/scriptdrop-fulfilment.service.js';
import { FulfilmentOrder } from './entities/fulfilment-order.entity.js';
import { OrderStatusHistory } from './entities/order-status-history.entity.js';
import { FulfilmentConfigurationError, FulfilmentNotFoundError } from './fulfilment-errors.js';

/**
 * The host's entry point: `fulfilment.caryrx` for pharmacy orders (patients, locations,
 * prescriptions, orders, webhook registration), `fulfilment.scriptdrop` for courier deliveries, and
 * provider-agnostic reads and actions on the stored orders.
 */
@Injectable()
export class FulfilmentService {
  constructor(
    readonly caryrx: CaryRxFulfilment,
    readonly scriptdrop: ScriptDropFulfilment,
    @Inject(FULFILMENT_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {}

  /** The stored order; FulfilmentNotFoundError when there is none. */
  async getOrder(orderId: string): Promise<FulfilmentOrder> {
    const order = await this.dataSource.manager.findOne(FulfilmentOrder, { where: { id: orderId } });
    if (!order) throw new FulfilmentNotFoundError(`order ${orderId} not found`);
    return order;
  }

  async findOrderByIdempotencyKey(idempotencyKey: string): Promise<FulfilmentOrder | null> {
    return this.dataSource.manager.findOne(FulfilmentOrder, { where: { idempotencyKey } });
  }

  /** Every status change of the order, oldest first. */
  async getOrderHistory(orderId: string): Promise<OrderStatusHistory[]> {
    await this.getOrder(orderId);
    return this.dataSource.manager.find(OrderStatusHistory, { where: { orderId }, order: { createdAt: 'ASC' } });
  }

  /** Reads the order at its provider now and applies what changed (same path as webhooks and the sync). */
  async refreshOrder(orderId: string): Promise<FulfilmentOrder> {
    const order = await this.getOrder(orderId);
    return order.provider === 'caryrx' ? this.caryrx.refreshOrder(orderId) : this.scriptdrop.refresh(orderId);
  }

  /**
   * Cancels the order at its provider. ScriptDrop cancels deliveries that are `new` or
   * `submitted to courier`; the CaryRx API documents no cancellation.
   */
  async cancelOrder(orderId: string): Promise<FulfilmentOrder> {
    const order = await this.getOrder(orderId);
    if (order.provider === 'caryrx') {
      throw new FulfilmentConfigurationError('CaryRx orders cannot be cancelled through the API (the CaryRx document has no cancel endpoint)');
    }
    return this.scriptdrop.cancel(orderId);
  }
}
