import { providerStatusTable, type OrderObservation, type ProviderStatusTable } from '../orders/order-state-machine.js';
import type { ScriptDropOrder } from './scriptdrop.types.js';
import type { SCRIPTDROP_ORDER_STATUSES } from './scriptdrop.values.js';

/** ScriptDrop status → normalised status, in ScriptDrop's order (its documented set; note `submitted to courier` with spaces). */
export const SCRIPTDROP_STATUS_TABLE: ProviderStatusTable = providerStatusTable<(typeof SCRIPTDROP_ORDER_STATUSES)[number]>({
  accepted: ['new', 'submitted to courier'],
  in_transit: ['picked_up'],
  delivery_failed: ['delivery_attempted'],
  delivered: ['delivered'],
  returned: ['returned_to_pharmacy'],
  cancelled: ['cancelled'],
});

/**
 * What a ScriptDrop order tells the state machine: the one mapping, for the create answer, the
 * sync's multi-get and every call that answers with the order. Its status; the newest
 * `occurred_at` among pickup, delivery, return, cancellation and shipping delivery (the provider
 * timestamp that orders observations); tracking for shipping orders; the delivery ETA (a pickup ETA
 * is not a delivery time, so it is not taken). The signature URL is short-lived and never part of it.
 */
export function scriptDropObservation(order: ScriptDropOrder): OrderObservation {
  const times = [
    order.pickup?.occurredAt,
    order.delivery?.occurredAt,
    order.return?.occurredAt,
    order.cancellation?.occurredAt,
    order.shipping?.delivery?.occurredAt,
  ].filter((d): d is Date => d instanceof Date);
  const newest = times.length ? new Date(Math.max(...times.map((d) => d.getTime()))) : null;
  return {
    statuses: SCRIPTDROP_STATUS_TABLE,
    providerStatus: order.status,
    providerTimestamp: newest,
    // Undefined leaves the stored value alone (courier orders have no shipping block).
    trackingUrl: order.shipping?.trackingUrl ?? undefined,
    trackingNumber: order.shipping?.trackingNumber ?? undefined,
    eta: order.eta?.type === 'delivery' && order.eta.arrivalAt ? order.eta.arrivalAt : undefined,
  };
}

/** A cancellation ScriptDrop confirmed (204) without the order being read back. */
export const scriptDropCancelled = (): OrderObservation => ({ statuses: SCRIPTDROP_STATUS_TABLE, providerStatus: 'cancelled' });
