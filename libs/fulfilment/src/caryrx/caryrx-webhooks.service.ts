import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { FULFILMENT_DATA_SOURCE } from '../fulfilment.constants.js';
import { Prescription } from '../orders/entities/prescription.entity.js';
import { FulfilmentEvents, type PrescriptionEvent } from '../orders/fulfilment-events.js';
import { OrderTransitionService } from '../orders/order-transitions.service.js';
import { FulfilmentEventBus } from '../orders/fulfilment-event-bus.js';
import { serialiseOnSqlite } from '../orders/sqlite-serialiser.js';
import { WebhookInboxService, inboxDedupKey, insertIfNew, type InboxApplyResult, type InboxReceipt } from '../webhooks/webhook-inbox.service.js';
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
 * Applies CaryRx webhook events through the inbox: one transaction per event (inbox row + state
 * change), domain events after commit. Order events go through OrderTransitionService, so a late
 * or repeated event never moves an order backwards.
 */
@Injectable()
export class CaryRxWebhookHandler {
  constructor(
    private readonly inbox: WebhookInboxService,
    private readonly transitions: OrderTransitionService,
    @Inject(FULFILMENT_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly events: FulfilmentEventBus,
  ) {}

  /** `body` is the validated event; `raw` the body as received (hashed for the dedup key when there is no timestamp). */
  async prescriptionEvent(body: CaryRxPrescriptionEventBody, raw: unknown): Promise<InboxReceipt> {
    const event = prescriptionEventFromWire(body);
    const isTest = event.id === CARYRX_PRESCRIPTION_TEST_ID;
    return this.receive(CARYRX_PRESCRIPTION_TOPIC, 'prescriptions', isTest, event, event.status, raw, async (manager) => {
      if (isTest) {
        await this.inbox.confirmRegistration(manager, 'caryrx', 'prescriptions');
        return { outcome: 'test' };
      }
      return this.upsertPrescription(manager, event);
    });
  }

  async orderEvent(body: CaryRxOrderEventBody, raw: unknown): Promise<InboxReceipt> {
    const event = orderEventFromWire(body);
    const isTest = event.id === CARYRX_ORDER_TEST_ID;
    return this.receive(CARYRX_ORDER_TOPIC, 'orders', isTest, event, event.orderStatus, raw, async (manager) => {
      if (isTest) await this.inbox.confirmRegistration(manager, 'caryrx', 'orders');
      const result = await this.transitions.applyByProviderId(
        manager,
        'caryrx',
        event.id,
        caryRxObservation(event.orderStatus, event.updatedAt, event),
        'webhook',
      );
      switch (result.outcome) {
        case 'not_found':
          return { outcome: isTest ? 'test' : 'unmatched' };
        case 'stale':
          return { outcome: 'stale' };
        case 'same':
          return { outcome: 'unchanged' };
        default:
          return { outcome: 'applied', afterCommit: () => this.transitions.publish(result) };
      }
    });
  }

  /**
   * Both topics: the event goes through the inbox (dedup key, applied once, committed before the
   * 2xx). A repeated test payload still confirms its registration, outside the inbox.
   */
  private async receive(
    topic: string,
    registrationTopic: 'prescriptions' | 'orders',
    isTest: boolean,
    event: { id: string; updatedAt: Date | null },
    status: string | null,
    raw: unknown,
    apply: (manager: EntityManager) => Promise<InboxApplyResult>,
  ): Promise<InboxReceipt> {
    const receipt = await this.inbox.receive(
      {
        provider: 'caryrx',
        topic,
        entityId: event.id,
        providerStatus: status,
        providerTimestamp: event.updatedAt,
        payload: { ...event },
        dedupKey: inboxDedupKey(topic, event.id, status, event.updatedAt, raw),
      },
      apply,
    );
    if (isTest && receipt.duplicate) await this.confirmAgain(registrationTopic);
    return receipt;
  }

  /**
   * Ids, status and timestamps only. The first status we learn is `received`; later changes are
   * `updated`; an event older than the stored one is stale. Insert-first, so a concurrent insert
   * (CaryRxFulfilment.createPrescription) never fails this transaction.
   */
  private async upsertPrescription(manager: EntityManager, event: ReturnType<typeof prescriptionEventFromWire>): Promise<InboxApplyResult> {
    const now = new Date();
    const row: Prescription = {
      id: randomUUID(),
      provider: 'caryrx',
      providerPrescriptionId: event.id,
      providerPatientId: event.patientId,
      status: event.status,
      providerUpdatedAt: event.updatedAt,
      createdAt: now,
      updatedAt: now,
    };
    if (await insertIfNew(manager, Prescription, row, 'id')) {
      return { outcome: 'applied', afterCommit: () => this.emitPrescription(FulfilmentEvents.PrescriptionReceived, row, null) };
    }
    const existing = await manager.findOneOrFail(Prescription, {
      where: { provider: 'caryrx', providerPrescriptionId: event.id },
      ...this.transitions.rowLock(manager),
    });
    if (event.updatedAt && existing.providerUpdatedAt && event.updatedAt.getTime() < existing.providerUpdatedAt.getTime()) {
      return { outcome: 'stale' };
    }
    if (existing.status === event.status) return { outcome: 'unchanged' };
    const previousStatus = existing.status;
    const changes: Partial<Prescription> = {
      status: event.status,
      providerPatientId: existing.providerPatientId ?? event.patientId,
      providerUpdatedAt: event.updatedAt ?? existing.providerUpdatedAt,
      updatedAt: now,
    };
    await manager.update(Prescription, { id: existing.id }, changes);
    const updated = { ...existing, ...changes };
    // A row created by createPrescription has no status yet: its first event is the receipt.
    const name = previousStatus === null ? FulfilmentEvents.PrescriptionReceived : FulfilmentEvents.PrescriptionUpdated;
    return { outcome: 'applied', afterCommit: () => this.emitPrescription(name, updated, previousStatus) };
  }

  private emitPrescription(name: string, p: Prescription, previousStatus: string | null): void {
    const event: PrescriptionEvent = {
      prescriptionId: p.id,
      provider: p.provider,
      providerPrescriptionId: p.providerPrescriptionId,
      providerPatientId: p.providerPatientId,
      previousStatus,
      status: p.status,
      occurredAt: new Date(),
    };
    this.events.emit(name, event);
  }

  /** A re-registration resets confirmedAt, and its test payload is a byte-identical duplicate. */
  private async confirmAgain(topic: string): Promise<void> {
    await serialiseOnSqlite(this.dataSource, () => this.inbox.confirmRegistration(this.dataSource.manager, 'caryrx', topic));
  }
}
