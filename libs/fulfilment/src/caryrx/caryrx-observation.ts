import type { OrderObservation } from '../orders/order-transitions.service.js';
import type { CaryRxDeliveryDetails } from './caryrx.wire.js';

/**
 * A CaryRx order state (webhook event, create answer, get order) as an observation for the one
 * transition path. CaryRx sends null for what it does not know yet (tracking until shipped):
 * null becomes "not sent", so it never clears what an earlier event set.
 */
export function caryRxObservation(providerStatus: string, providerTimestamp: Date | null, d: CaryRxDeliveryDetails): OrderObservation {
  return {
    providerStatus,
    providerTimestamp,
    trackingUrl: d.trackingUrl ?? undefined,
    eta: d.eta ?? undefined,
    serviceLevel: d.shippingMethod ?? undefined,
    packagingMethod: d.packagingMethod ?? undefined,
    samedayLocationX: d.samedayLocationX ?? undefined,
    samedayLocationY: d.samedayLocationY ?? undefined,
  };
}
