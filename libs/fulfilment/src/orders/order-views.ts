import type { ProviderName } from '../http/provider-errors.js';
import type { FulfilmentOrder } from './entities/fulfilment-order.entity.js';
import type { OrderStatusHistory, StatusChangeSource } from './entities/order-status-history.entity.js';
import type { FulfilmentStatus } from './order-state-machine.js';

/**
 * An order as the module shows it to its host: what the order is and where it stands. Built field
 * by field from the row, so the table's bookkeeping (sync lease, version, sync schedule, last
 * error) never reaches a host, and a column can change without changing this shape.
 */
export interface FulfilmentOrderView {
  /** The module's id of the order (a UUID). */
  id: string;
  provider: ProviderName;
  /** The provider's id; null until the create call answered (and while its outcome is unknown). */
  providerOrderId: string | null;
  /** The key the order was placed with; placing again with it returns this order. */
  idempotencyKey: string;
  /** The host's own reference (e.g. its checkout id). */
  hostReference: string | null;
  /** CaryRx shipping_method or ScriptDrop service_level. */
  serviceLevel: string | null;
  /** Normalised status (the one state machine). */
  status: FulfilmentStatus;
  /** The provider's own status, verbatim. */
  providerStatus: string | null;
  trackingNumber: string | null;
  trackingUrl: string | null;
  /** Expected delivery time, when the provider gave one. */
  eta: Date | null;
  /** CaryRx packaging_method (e.g. `usps_firstclass`); null for ScriptDrop. */
  packagingMethod: string | null;
  /** CaryRx sameday_location_x, verbatim; null for ScriptDrop. */
  samedayLocationX: string | null;
  /** CaryRx sameday_location_y, verbatim; null for ScriptDrop. */
  samedayLocationY: string | null;
  createdAt: Date;
  /** Last local change (status or tracking details). */
  updatedAt: Date;
  /** The provider's timestamp of the newest state applied. */
  providerUpdatedAt: Date | null;
}

/** One status change of an order, oldest first in `getOrderHistory`. */
export interface FulfilmentOrderHistoryEntry {
  /** Null for the first entry (the order was created). */
  fromStatus: FulfilmentStatus | null;
  toStatus: FulfilmentStatus;
  fromProviderStatus: string | null;
  toProviderStatus: string | null;
  /** What observed the change: `create`, `webhook`, `sync`, `api`, or `ops` (an operator in the ops console). */
  source: StatusChangeSource;
  /** Who asked for it, for source `ops` (the name the console's guard gave); null otherwise. */
  actor: string | null;
  /** The provider's timestamp of the new state, when it sent one. */
  providerTimestamp: Date | null;
  /** When the module applied the change (the `occurredAt` of its status_changed event). */
  occurredAt: Date;
}

export function toOrderView(order: FulfilmentOrder): FulfilmentOrderView {
  return {
    id: order.id,
    provider: order.provider,
    providerOrderId: order.providerOrderId,
    idempotencyKey: order.idempotencyKey,
    hostReference: order.hostReference,
    serviceLevel: order.serviceLevel,
    status: order.status,
    providerStatus: order.providerStatus,
    trackingNumber: order.trackingNumber,
    trackingUrl: order.trackingUrl,
    eta: order.eta,
    packagingMethod: order.packagingMethod,
    samedayLocationX: order.samedayLocationX,
    samedayLocationY: order.samedayLocationY,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
    providerUpdatedAt: order.providerUpdatedAt,
  };
}

export function toHistoryEntry(row: OrderStatusHistory): FulfilmentOrderHistoryEntry {
  return {
    fromStatus: row.fromStatus,
    toStatus: row.toStatus,
    fromProviderStatus: row.fromProviderStatus,
    toProviderStatus: row.toProviderStatus,
    source: row.source,
    actor: row.actor ?? null,
    providerTimestamp: row.providerTimestamp,
    occurredAt: row.createdAt,
  };
}
