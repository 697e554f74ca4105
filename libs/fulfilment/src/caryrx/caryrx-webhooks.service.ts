import { Injectable } from '@nestjs/common';
import { OrderStore } from '../orders/order-store.js';
import { WebhookInbox, type InboxReceipt } from '../webhooks/webhook-inbox.js';
import {
  CARYRX_ORDER_TEST_ID,
  CARYRX_PRESCRIPTION_TEST_ID,
  orderEventFromWire,
  prescriptionEventFromWire,
  type CaryRxOrderEventBody,
  type CaryRxPrescriptionEventBody,
} from './caryrx.wire.js';
import { caryRxObservation } from './caryrx-observation.js';

export const CARYRX_PRESCRIPTION_TOPIC = 'caryrx.prescription';
export const CARYRX_ORDER_TOPIC = 'caryrx.order';

/**
 * CaryRx webhook events → the inbox: each event is mapped once (wire → event → observation) and
 * handed over with what it does, as data. The inbox stores it (dedup key, committed before the
 * 2xx) and the store applies it through the one state machine.
 */
@Injectable()
export class CaryRxWebhookHandler {
  constructor(
    private readonly inbox: WebhookInbox,
    private readonly store: OrderStore,
  ) {}

  /** `body` is the validated event; `raw` the body as received (hashed for the dedup key when there is no timestamp). */
  async prescriptionEvent(body: CaryRxPrescriptionEventBody, raw: unknown): Promise<InboxReceipt> {
    const event = prescriptionEventFromWire(body);
    const isTest = event.id === CARYRX_PRESCRIPTION_TEST_ID;
    const receipt = await this.inbox.receive(
      { provider: 'caryrx', topic: CARYRX_PRESCRIPTION_TOPIC, entityId: event.id, providerStatus: event.status, providerTimestamp: event.updatedAt, payload: { ...event }, raw },
      isTest
        ? { confirmsRegistration: { provider: 'caryrx', topic: 'prescriptions' } }
        : {
            prescription: {
              provider: 'caryrx',
              providerPrescriptionId: event.id,
              providerPatientId: event.patientId,
              status: event.status,
              providerUpdatedAt: event.updatedAt,
            },
          },
    );
    if (isTest && receipt.duplicate) await this.store.confirmRegistration('caryrx', 'prescriptions');
    return receipt;
  }

  async orderEvent(body: CaryRxOrderEventBody, raw: unknown): Promise<InboxReceipt> {
    const event = orderEventFromWire(body);
    const isTest = event.id === CARYRX_ORDER_TEST_ID;
    const receipt = await this.inbox.receive(
      { provider: 'caryrx', topic: CARYRX_ORDER_TOPIC, entityId: event.id, providerStatus: event.orderStatus, providerTimestamp: event.updatedAt, raw },
      {
        // The body's rules require order_status, so there is always an observation.
        order: { provider: 'caryrx', providerOrderId: event.id, observation: caryRxObservation(event)! },
        ...(isTest ? { confirmsRegistration: { provider: 'caryrx' as const, topic: 'orders' } } : {}),
      },
    );
    // A re-registration resets confirmedAt, and its test payload is a byte-identical duplicate.
    if (isTest && receipt.duplicate) await this.store.confirmRegistration('caryrx', 'orders');
    return receipt;
  }
}
