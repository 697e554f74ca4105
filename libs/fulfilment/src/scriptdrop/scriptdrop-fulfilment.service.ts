import { Injectable, Logger } from '@nestjs/common';
import { ProviderError, ProviderNotFoundError, ProviderValidationError } from '../http/provider-errors.js';
import type { FulfilmentOrder } from '../orders/entities/fulfilment-order.entity.js';
import { FulfilmentNotFoundError, OrderStateError } from '../orders/fulfilment-errors.js';
import { isTerminal } from '../orders/order-state-machine.js';
import { toOrderView, type FulfilmentOrderView } from '../orders/order-views.js';
import { OrderPlacementService, type PlaceOrderResult } from '../orders/order-placement.service.js';
import type { OrderObservation } from '../orders/order-state-machine.js';
import { OrderStore, type ChangeContext } from '../orders/order-store.js';
import { validateInput } from '../validation.js';
import { CreateScriptDropDeliveryDto, type CreateScriptDropDeliveryInput } from './scriptdrop.dto.js';
import { ScriptDropService, type ScriptDropCallOptions } from './scriptdrop.service.js';
import type { ScriptDropAddPrescriptionInput, ScriptDropOrder } from './scriptdrop.types.js';
import { SCRIPTDROP_DEFAULT_SERVICE_LEVEL } from './scriptdrop.values.js';
import { scriptDropCancelled, scriptDropObservation } from './scriptdrop-observation.js';

/** A delivery as stored, with ScriptDrop's live view of it (fresh signature URL included). */
export interface ScriptDropDeliveryDetails {
  order: FulfilmentOrderView;
  remote: ScriptDropOrder;
}

/**
 * The ScriptDrop flow with local state (exposed as `FulfilmentService.scriptdrop`). A delivery is a
 * fulfilment order with provider `scriptdrop`: stored first under its idempotency key, created at
 * ScriptDrop with that key as `external_reference_number`, then updated with ScriptDrop's id. Every
 * status change goes through OrderTransitionService (the one state machine, history and event).
 * No patient data is stored: the order body goes to ScriptDrop only.
 */
@Injectable()
export class ScriptDropFulfilment {
  private readonly logger = new Logger('Fulfilment:ScriptDrop');

  constructor(
    private readonly scriptdrop: ScriptDropService,
    private readonly placement: OrderPlacementService,
    private readonly store: OrderStore,
  ) {}

  /**
   * Creates a delivery once per idempotency key. The key is sent as `external_reference_number`;
   * an `order.externalReferenceNumber` of the caller's own is refused unless it equals the key
   * (FulfilmentValidationError), so the reference ScriptDrop shows always finds the local order.
   *
   * A reused key returns the stored order and sends nothing (`created: false`). A refusal by
   * ScriptDrop throws its typed error and leaves no row. A create whose outcome is unknown (timeout,
   * broken connection, 500/502/504 or an unreadable 2xx) is stored as `unknown`, never re-sent, and
   * throws OrderOutcomeUnknownError.
   */
  async createDelivery(request: CreateScriptDropDeliveryInput, options: ScriptDropCallOptions = {}): Promise<PlaceOrderResult> {
    const input = validateInput(CreateScriptDropDeliveryDto, request, 'ScriptDrop create delivery');
    return this.placement.place(
      {
        provider: 'scriptdrop',
        idempotencyKey: input.idempotencyKey,
        hostReference: input.hostReference ?? null,
        serviceLevel: input.order.serviceLevel ?? SCRIPTDROP_DEFAULT_SERVICE_LEVEL,
      },
      async (idempotencyKey) => {
        const created = await this.scriptdrop.createOrder({ ...input.order, externalReferenceNumber: idempotencyKey }, options);
        return { providerOrderId: created.id, observation: scriptDropObservation(created) };
      },
    );
  }

  /**
   * Cancels the delivery at ScriptDrop (it allows this while `new` or `submitted to courier`) and
   * records `cancelled` with the cancellation time read back from ScriptDrop. An order already
   * terminal (delivered, returned, cancelled) is refused here with OrderStateError and nothing is
   * sent. A refusal by ScriptDrop (e.g. "Order is not in a cancellable status" once picked up) is
   * thrown as ProviderValidationError with ScriptDrop's message, and the local order is left as it was.
   * A retried DELETE whose earlier attempt may have gone through and whose retry is refused as not
   * cancellable is settled by reading the order back: cancelled there is success.
   */
  async cancel(orderId: string, context?: ChangeContext): Promise<FulfilmentOrderView> {
    const order = await this.load(orderId);
    if (isTerminal(order.status)) {
      throw new OrderStateError(order, `ScriptDrop order ${order.id} is already ${order.status}: a terminal order cannot be cancelled`);
    }
    const providerOrderId = this.providerIdOf(order);
    const confirmed = await this.deleteSettled(
      providerOrderId,
      () => this.scriptdrop.cancelOrder(providerOrderId),
      (err) => err instanceof ProviderValidationError,
      (remote) => remote.status === 'cancelled',
    );
    // The 204 is the answer; the follow-up GET only adds the cancellation time.
    const remote = confirmed ?? (await this.readBack(providerOrderId));
    const observation = remote?.status === 'cancelled' ? scriptDropObservation(remote) : scriptDropCancelled();
    return this.apply(order, observation, context);
  }

  /** Adds a prescription to the delivery and applies the order ScriptDrop answers with. */
  async addPrescription(orderId: string, prescription: ScriptDropAddPrescriptionInput): Promise<FulfilmentOrderView> {
    const order = await this.load(orderId);
    const remote = await this.scriptdrop.addPrescription(this.providerIdOf(order), prescription);
    return this.apply(order, scriptDropObservation(remote));
  }

  /**
   * Removes a prescription (by Rx number) from the delivery, then reads the order back. A retried
   * DELETE whose earlier attempt may have gone through and whose retry answers 404 is success when
   * the order still reads back: the 404 was then the prescription's, which is gone (ScriptDrop's
   * order view lists no prescriptions, so the order's existence is all there is to check).
   */
  async removePrescription(orderId: string, rxNumber: string): Promise<FulfilmentOrderView> {
    const order = await this.load(orderId);
    const providerOrderId = this.providerIdOf(order);
    const confirmed = await this.deleteSettled(
      providerOrderId,
      () => this.scriptdrop.removePrescription(providerOrderId, rxNumber),
      (err) => err instanceof ProviderNotFoundError,
      () => true,
    );
    const remote = confirmed ?? (await this.readBack(providerOrderId));
    return remote ? this.apply(order, scriptDropObservation(remote)) : toOrderView(order);
  }

  /** Reads the delivery at ScriptDrop now and applies what changed. Returns the stored order. */
  async refresh(orderId: string, context?: ChangeContext): Promise<FulfilmentOrderView> {
    return (await this.getDeliveryDetails(orderId, context)).order;
  }

  /**
   * Like refresh, and also returns ScriptDrop's view: use `remote.delivery.signatureUrl` straight
   * away (it is short-lived and deliberately not stored).
   */
  async getDeliveryDetails(orderId: string, context?: ChangeContext): Promise<ScriptDropDeliveryDetails> {
    const order = await this.load(orderId);
    const remote = await this.scriptdrop.getOrder(this.providerIdOf(order));
    return { order: await this.apply(order, scriptDropObservation(remote), context), remote };
  }

  // --- internals ---------------------------------------------------------------------------------

  private async load(orderId: string): Promise<FulfilmentOrder> {
    const order = await this.store.getOrder(orderId);
    if (!order || order.provider !== 'scriptdrop') throw new FulfilmentNotFoundError(`ScriptDrop order ${orderId} not found`);
    return order;
  }

  private providerIdOf(order: FulfilmentOrder): string {
    if (!order.providerOrderId) {
      throw new OrderStateError(order, `ScriptDrop order ${order.id} has no ScriptDrop id (its create outcome is unknown): reconcile it first`);
    }
    return order.providerOrderId;
  }

  /**
   * Sends a DELETE the HTTP core retries. When an earlier attempt may have been acted on (timeout,
   * broken connection, 500/502/504) and the last was refused with `isEcho` (what ScriptDrop answers
   * a repeat of its own success), the order is read back and `done` decides: the order read back
   * on success, otherwise the typed error. `undefined` when the DELETE itself succeeded.
   */
  private async deleteSettled(
    providerOrderId: string,
    send: () => Promise<void>,
    isEcho: (err: ProviderError) => boolean,
    done: (remote: ScriptDropOrder) => boolean,
  ): Promise<ScriptDropOrder | undefined> {
    try {
      await send();
      return undefined;
    } catch (err) {
      if (!(err instanceof ProviderError) || !err.earlierAttemptMayHaveSucceeded || !isEcho(err)) throw err;
      const remote = await this.readBack(providerOrderId);
      if (remote && done(remote)) return remote;
      throw err;
    }
  }

  /** A follow-up read after a call that answered 204; its failure does not undo what the call did. */
  private async readBack(providerOrderId: string): Promise<ScriptDropOrder | undefined> {
    try {
      return await this.scriptdrop.getOrder(providerOrderId);
    } catch (err) {
      this.logger.warn(`ScriptDrop order ${providerOrderId}: read-back failed (${(err as Error).message}); the sync will catch up`);
      return undefined;
    }
  }

  private async apply(order: FulfilmentOrder, observation: OrderObservation, context?: ChangeContext): Promise<FulfilmentOrderView> {
    const result = await this.store.observe('scriptdrop', order.providerOrderId!, observation, context?.source ?? 'api', context?.actor ?? null);
    return toOrderView(result.order ?? order);
  }
}
