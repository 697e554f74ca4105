import type { ProviderName } from '../http/provider-errors.js';
import type { CaryRxOrderStatus } from '../caryrx/caryrx.wire.js';

/**
 * The one state machine. Both providers' statuses map onto these normalised statuses; the
 * provider's own status is always kept beside it.
 *
 *   created → accepted → in_transit → delivered
 *                     ↘ delivery_failed → returned      (and cancelled from any open status)
 *   unknown: the create call's outcome is not known (e.g. timed out after it was sent).
 */
export const FULFILMENT_STATUSES = [
  'created',
  'accepted',
  'in_transit',
  'delivery_failed',
  'delivered',
  'returned',
  'cancelled',
  'unknown',
] as const;
export type FulfilmentStatus = (typeof FULFILMENT_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<FulfilmentStatus> = new Set(['delivered', 'returned', 'cancelled']);

export const isTerminal = (status: FulfilmentStatus): boolean => TERMINAL_STATUSES.has(status);

/** Progress rank: an observation may only move an order to an equal or higher rank. */
const RANK: Record<FulfilmentStatus, number> = {
  unknown: -1,
  created: 0,
  accepted: 1,
  in_transit: 2,
  delivery_failed: 3,
  delivered: 4,
  returned: 4,
  cancelled: 4,
};

interface ProviderStatusInfo {
  status: FulfilmentStatus;
  /** Order of the provider status inside the provider's own flow; breaks ties within one normalised status. */
  step: number;
}

/**
 * CaryRx status → normalised status. Keyed by CaryRxOrderStatus, so every status of
 * CARYRX_ORDER_STATUSES (caryrx.wire.ts, where the documented ones and the guesses are marked) has
 * exactly one entry and nothing else can be added here.
 */
const CARYRX_STATUSES: Record<CaryRxOrderStatus, ProviderStatusInfo> = {
  pending: { status: 'accepted', step: 1 },
  ready_to_fill: { status: 'accepted', step: 2 },
  filled: { status: 'accepted', step: 3 },
  ready_to_ship: { status: 'accepted', step: 4 },
  shipped: { status: 'in_transit', step: 5 },
  out_for_delivery: { status: 'in_transit', step: 6 },
  delivery_failed: { status: 'delivery_failed', step: 7 },
  delivered: { status: 'delivered', step: 8 },
  returned: { status: 'returned', step: 8 },
  cancelled: { status: 'cancelled', step: 8 },
  canceled: { status: 'cancelled', step: 8 },
};

/** Provider status → normalised status. ScriptDrop's are its documented set (note `submitted to courier` with spaces). */
const PROVIDER_STATUSES: Record<ProviderName, Record<string, ProviderStatusInfo>> = {
  caryrx: CARYRX_STATUSES,
  scriptdrop: {
    new: { status: 'accepted', step: 1 },
    'submitted to courier': { status: 'accepted', step: 2 },
    picked_up: { status: 'in_transit', step: 3 },
    delivery_attempted: { status: 'delivery_failed', step: 4 },
    delivered: { status: 'delivered', step: 5 },
    returned_to_pharmacy: { status: 'returned', step: 5 },
    cancelled: { status: 'cancelled', step: 5 },
  },
};

/** The normalised status for a provider status, or undefined when the provider status is not known. */
export function normaliseProviderStatus(provider: ProviderName, providerStatus: string): FulfilmentStatus | undefined {
  return PROVIDER_STATUSES[provider][providerStatus.trim().toLowerCase()]?.status;
}

/** What the module currently holds for an order, as far as transitions are concerned. */
export interface OrderStatusState {
  provider: ProviderName;
  status: FulfilmentStatus;
  providerStatus: string | null;
  providerUpdatedAt: Date | null;
}

/** A status seen at the provider, from a webhook, a sync read or a call's answer. */
export interface StatusObservation {
  providerStatus: string;
  /** The provider's timestamp of this state, when it sent one. */
  providerTimestamp?: Date | null;
}

export type TransitionDecision =
  /** Move to `status` (may equal the current normalised status when only the provider status changed). */
  | { kind: 'apply'; status: FulfilmentStatus; knownProviderStatus: boolean }
  /** Same state as stored: nothing to write. */
  | { kind: 'same' }
  /** Older than what is stored: never move an order backwards. */
  | { kind: 'stale'; reason: string };

/**
 * Decides whether an observation moves an order. Pure: used by webhooks, the sync and API calls
 * alike so every path agrees on what "newer" means.
 *
 * Rules, in order: a terminal order never changes; a provider timestamp older than the stored one is
 * stale; the same provider status is nothing; a lower progress rank is stale (a late `pending` after
 * `shipped`); within one normalised status, a lower provider step is stale. An unknown provider
 * status keeps the normalised status and is recorded (the caller logs it).
 */
export function decideTransition(current: OrderStatusState, observation: StatusObservation): TransitionDecision {
  const providerStatus = observation.providerStatus.trim().toLowerCase();
  const timestamp = observation.providerTimestamp ?? null;
  if (isTerminal(current.status)) {
    return current.providerStatus === providerStatus ? { kind: 'same' } : { kind: 'stale', reason: 'order is terminal' };
  }
  if (timestamp && current.providerUpdatedAt && timestamp.getTime() < current.providerUpdatedAt.getTime()) {
    return { kind: 'stale', reason: 'older provider timestamp' };
  }
  if (current.providerStatus === providerStatus) return { kind: 'same' };

  const table = PROVIDER_STATUSES[current.provider];
  const next = table[providerStatus];
  if (!next) {
    // Unknown to us: keep it beside the unchanged normalised status rather than drop it.
    // Any provider status proves the provider has the order, so created/unknown become accepted.
    const status = current.status === 'created' || current.status === 'unknown' ? 'accepted' : current.status;
    return { kind: 'apply', status, knownProviderStatus: false };
  }
  if (RANK[next.status] < RANK[current.status]) return { kind: 'stale', reason: 'status would move backwards' };
  const currentStep = current.providerStatus ? table[current.providerStatus]?.step : undefined;
  if (next.status === current.status && currentStep !== undefined && next.step < currentStep) {
    return { kind: 'stale', reason: 'provider status would move backwards' };
  }
  return { kind: 'apply', status: next.status, knownProviderStatus: true };
}
