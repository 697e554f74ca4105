import type { ProviderName } from '../http/provider-errors.js';
import type { FulfilmentStatus } from './order-state-machine.js';
import type { StatusChangeSource } from './entities/order-status-history.entity.js';

/** Domain event names (EventEmitter2). Stable: hosts subscribe with @OnEvent(FulfilmentEvents.X). */
export const FulfilmentEvents = {
  OrderStatusChanged: 'fulfilment.order.status_changed',
  PrescriptionReceived: 'fulfilment.prescription.received',
  PrescriptionUpdated: 'fulfilment.prescription.updated',
  WebhookRejected: 'fulfilment.webhook.rejected',
} as const;

/**
 * Carries ids and statuses only, never patient data. Delivered at least once (transactional
 * outbox): a listener that must act once dedupes on `eventId`, the same on every delivery.
 */
export interface OrderStatusChangedEvent {
  /** The event's id, the same on every delivery of it. */
  eventId: string;
  orderId: string;
  provider: ProviderName;
  providerOrderId: string | null;
  hostReference: string | null;
  previousStatus: FulfilmentStatus | null;
  status: FulfilmentStatus;
  previousProviderStatus: string | null;
  providerStatus: string | null;
  source: StatusChangeSource;
  occurredAt: Date;
}

/** Delivered at least once, like OrderStatusChangedEvent: dedupe on `eventId`. */
export interface PrescriptionEvent {
  /** The event's id, the same on every delivery of it. */
  eventId: string;
  prescriptionId: string;
  provider: ProviderName;
  providerPrescriptionId: string;
  providerPatientId: string | null;
  previousStatus: string | null;
  status: string | null;
  occurredAt: Date;
}

export interface WebhookRejectedEvent {
  provider: ProviderName;
  topic: string;
  /** `unauthorized`, `unsupported_media_type`, `invalid_body` or `too_large`. */
  reason: string;
  /** Field paths that failed validation (no values). */
  fields?: string[];
  occurredAt: Date;
}
