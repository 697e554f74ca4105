import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { FULFILMENT_DATA_SOURCE } from '../fulfilment.constants.js';
import {
  ProviderInvalidResponseError,
  ProviderNetworkError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  type ProviderName,
} from '../http/provider-errors.js';
import { FulfilmentOrder, newFulfilmentOrder } from './entities/fulfilment-order.entity.js';
import { OrderStatusHistory } from './entities/order-status-history.entity.js';
import { OrderTransitionService, type OrderObservation } from './order-transitions.service.js';
import { FulfilmentError, OrderOutcomeUnknownError } from './fulfilment-errors.js';
import { toOrderView, type FulfilmentOrderView } from './order-views.js';
import { runTransaction, serialiseOnSqlite } from './sqlite-serialiser.js';

export interface PlaceOrderRequest {
  provider: ProviderName;
  /** Unique per order; a second call with the same key returns the first order and sends nothing. */
  idempotencyKey: string;
  hostReference?: string | null;
  serviceLevel?: string | null;
  patientLinkId?: string | null;
}

/** What the provider answered to the create call. */
export interface ProviderOrderCreated extends OrderObservation {
  providerOrderId: string;
  providerCreatedAt?: Date | null;
}

export interface PlaceOrderResult {
  order: FulfilmentOrderView;
  /** False when the idempotency key was already used: the stored order is returned, nothing was sent. */
  created: boolean;
}

/**
 * True when a failed create may nevertheless have created the order at the provider: it timed out
 * after being sent, the connection broke mid-request, the server failed (500/502/504) while
 * handling it, or it answered 2xx with a body we cannot read. 503 and 429 mean the provider
 * declined to handle it, and 4xx are definite refusals. The module's own errors (invalid input,
 * provider not configured) are thrown before anything is sent.
 */
export function isCreateOutcomeUnknown(err: unknown): boolean {
  // The HTTP core knows whether the connection was made before a timeout or reset.
  if (err instanceof ProviderTimeoutError || err instanceof ProviderNetworkError) return err.outcomeUnknown;
  if (err instanceof ProviderUnavailableError) return err.status !== 503;
  if (err instanceof ProviderInvalidResponseError) return true;
  // Anything else unexpected (a crash half-way) may have happened after the request went out.
  return !(err instanceof FulfilmentError);
}

/**
 * Places orders the same way for both providers: the row is written first with its idempotency key
 * (status `created`), then the provider is called, then the provider id is stored. A definite
 * refusal removes the row (nothing half-written); an ambiguous failure leaves it `unknown`, never
 * re-sent, and throws OrderOutcomeUnknownError so the host sees it.
 */
@Injectable()
export class OrderPlacementService {
  private readonly logger = new Logger('Fulfilment:Orders');

  constructor(
    @Inject(FULFILMENT_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly transitions: OrderTransitionService,
  ) {}

  async place(request: PlaceOrderRequest, send: (idempotencyKey: string) => Promise<ProviderOrderCreated>): Promise<PlaceOrderResult> {
    const existing = await serialiseOnSqlite(this.dataSource, () =>
      this.dataSource.manager.findOne(FulfilmentOrder, { where: { idempotencyKey: request.idempotencyKey } }),
    );
    if (existing) return { order: toOrderView(existing), created: false };

    const order = newFulfilmentOrder({
      provider: request.provider,
      idempotencyKey: request.idempotencyKey,
      status: 'created',
      hostReference: request.hostReference ?? null,
      serviceLevel: request.serviceLevel ?? null,
      patientLinkId: request.patientLinkId ?? null,
    });
    let createdEvent;
    try {
      createdEvent = await runTransaction(this.dataSource, async (manager) => {
        await manager.insert(FulfilmentOrder, order);
        return this.transitions.recordInitial(manager, order, 'create');
      });
    } catch (err) {
      // Lost a race on the same idempotency key: the other caller's order wins, nothing is sent.
      const winner = await serialiseOnSqlite(this.dataSource, () =>
        this.dataSource.manager.findOne(FulfilmentOrder, { where: { idempotencyKey: request.idempotencyKey } }),
      );
      if (winner) return { order: toOrderView(winner), created: false };
      throw err;
    }
    this.transitions.publish(createdEvent);

    let answer: ProviderOrderCreated;
    try {
      answer = await send(request.idempotencyKey);
    } catch (err) {
      if (isCreateOutcomeUnknown(err)) {
        await this.markUnknown(order, err);
        throw new OrderOutcomeUnknownError(order, err);
      }
      // The provider definitely did not create it: leave no half-written row behind.
      await runTransaction(this.dataSource, async (manager) => {
        await manager.delete(OrderStatusHistory, { orderId: order.id });
        await manager.delete(FulfilmentOrder, { id: order.id });
      });
      throw err;
    }

    const result = await runTransaction(this.dataSource, async (manager) => {
      const fresh = await manager.findOneOrFail(FulfilmentOrder, { where: { id: order.id }, ...this.transitions.rowLock(manager) });
      fresh.providerOrderId = answer.providerOrderId;
      fresh.providerCreatedAt = answer.providerCreatedAt ?? null;
      await manager.update(
        FulfilmentOrder,
        { id: fresh.id },
        { providerOrderId: fresh.providerOrderId, providerCreatedAt: fresh.providerCreatedAt },
      );
      return this.transitions.apply(manager, fresh, answer, 'create');
    });
    this.transitions.publish(result);
    return { order: toOrderView(result.order ?? order), created: true };
  }

  private async markUnknown(order: FulfilmentOrder, err: unknown): Promise<void> {
    const now = new Date();
    const reason = err instanceof Error ? err.message.slice(0, 500) : 'create failed with an unknown outcome';
    const event = await runTransaction(this.dataSource, async (manager) => {
      await manager.update(FulfilmentOrder, { id: order.id }, { status: 'unknown', lastError: reason, updatedAt: now, version: order.version + 1 });
      const previous = order.status;
      Object.assign(order, { status: 'unknown', lastError: reason, updatedAt: now, version: order.version + 1 });
      const e = await this.transitions.recordInitial(manager, order, 'create');
      return { ...e, previousStatus: previous };
    });
    this.transitions.publish(event);
    this.logger.warn(
      `order ${order.id} (${order.provider}, key ${order.idempotencyKey}): create outcome unknown, not re-sent; marked unknown (${reason})`,
    );
  }
}
