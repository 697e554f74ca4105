import { Injectable, Logger } from '@nestjs/common';
import {
  ProviderInvalidResponseError,
  ProviderNetworkError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  type ProviderName,
} from '../http/provider-errors.js';
import { newFulfilmentOrder } from './entities/fulfilment-order.entity.js';
import type { OrderObservation } from './order-state-machine.js';
import { OrderStore } from './order-store.js';
import { FulfilmentError, OrderOutcomeUnknownError } from './fulfilment-errors.js';
import { toOrderView, type FulfilmentOrderView } from './order-views.js';

export interface PlaceOrderRequest {
  provider: ProviderName;
  /** Unique per order; a second call with the same key returns the first order and sends nothing. */
  idempotencyKey: string;
  hostReference?: string | null;
  serviceLevel?: string | null;
  patientLinkId?: string | null;
  /** What identifies the order the create makes at the provider (ids only), for reconciliation. */
  createSignature?: string | null;
}

/** What the provider answered to the create call. */
export interface ProviderOrderCreated {
  providerOrderId: string;
  providerCreatedAt?: Date | null;
  /** The order's state in the answer, through its provider's one mapping. */
  observation: OrderObservation;
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

  constructor(private readonly store: OrderStore) {}

  async place(request: PlaceOrderRequest, send: (idempotencyKey: string) => Promise<ProviderOrderCreated>): Promise<PlaceOrderResult> {
    const existing = await this.store.getOrderByIdempotencyKey(request.idempotencyKey);
    if (existing) return { order: toOrderView(existing), created: false };

    const placed = await this.store.placeOrder(
      newFulfilmentOrder({
        provider: request.provider,
        idempotencyKey: request.idempotencyKey,
        status: 'created',
        hostReference: request.hostReference ?? null,
        serviceLevel: request.serviceLevel ?? null,
        patientLinkId: request.patientLinkId ?? null,
        createSignature: request.createSignature ?? null,
      }),
    );
    // Lost a race on the same idempotency key: the other caller's order wins, nothing is sent.
    if (!placed.created) return { order: toOrderView(placed.order), created: false };
    const order = placed.order;

    let answer: ProviderOrderCreated;
    try {
      answer = await send(request.idempotencyKey);
    } catch (err) {
      if (isCreateOutcomeUnknown(err)) {
        const reason = err instanceof Error ? err.message.slice(0, 500) : 'create failed with an unknown outcome';
        const unknown = await this.store.markUnknown(order.id, reason);
        this.logger.warn(
          `order ${order.id} (${order.provider}, key ${order.idempotencyKey}): create outcome unknown, not re-sent; marked ${unknown?.status ?? 'unknown'} (${reason})`,
        );
        throw new OrderOutcomeUnknownError(unknown ?? order, err);
      }
      // The provider definitely did not create it: leave no half-written row behind.
      await this.store.discardRefused(order.id);
      throw err;
    }

    const linked = await this.store.linkCreated(order.id, {
      providerOrderId: answer.providerOrderId,
      providerCreatedAt: answer.providerCreatedAt ?? null,
      observation: answer.observation,
    });
    return { order: toOrderView(linked), created: true };
  }
}
