import { providerStatusTable, type OrderObservation, type ProviderStatusTable } from '../orders/order-state-machine.js';
import type { CaryRxOrder } from './caryrx.types.js';
import { orderDeliveryDetails, type CaryRxOrderEvent, type CaryRxOrderStatus } from './caryrx.wire.js';

/**
 * CaryRx status → normalised status, in CaryRx's order. Typed by CaryRxOrderStatus and checked
 * against CARYRX_ORDER_STATUSES (caryrx.wire.ts, where the documented ones and the guesses are
 * marked) by the state machine's spec, so the two lists cannot drift apart.
 */
export const CARYRX_STATUS_TABLE: ProviderStatusTable = providerStatusTable<CaryRxOrderStatus>({
  accepted: ['pending', 'ready_to_fill', 'filled', 'ready_to_ship'],
  in_transit: ['shipped', 'out_for_delivery'],
  delivery_failed: ['delivery_failed'],
  delivered: ['delivered'],
  returned: ['returned'],
  cancelled: ['cancelled', 'canceled'],
});

/**
 * A CaryRx order (webhook event, create answer, get order) as an observation: the one mapping,
 * used by webhooks, the sync and refreshes alike. CaryRx sends null for what it does not know yet
 * (tracking until shipped): null becomes "not sent", so it never clears what an earlier event set.
 * Undefined when the order carries no status.
 */
export function caryRxObservation(order: CaryRxOrder | CaryRxOrderEvent): OrderObservation | undefined {
  if (!order.orderStatus) return undefined;
  const d = 'shipmentTrackingUrl' in order ? orderDeliveryDetails(order) : order;
  return {
    statuses: CARYRX_STATUS_TABLE,
    providerStatus: order.orderStatus,
    providerTimestamp: order.updatedAt,
    trackingUrl: d.trackingUrl ?? undefined,
    eta: d.eta ?? undefined,
    serviceLevel: d.shippingMethod ?? undefined,
    packagingMethod: d.packagingMethod ?? undefined,
    samedayLocationX: d.samedayLocationX ?? undefined,
    samedayLocationY: d.samedayLocationY ?? undefined,
  };
}
