/**
 * The one state machine. Both providers' statuses map onto these normalised statuses; the
 * provider's own status is always kept beside it.
 *
 *   created → accepted → in_transit → delivered
 *                     ↘ delivery_failed → returned      (and cancelled from any open status)
 *   unknown: the create call's outcome is not known (e.g. timed out after it was sent);
 *   not_created: an unknown order an operator closed because the provider never created it.
 *
 * Pure: it decides, OrderStore persists. It knows no provider: each provider folder hands it its
 * own status table inside the observation.
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
  'not_created',
] as const;
export type FulfilmentStatus = (typeof FULFILMENT_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<FulfilmentStatus> = new Set(['delivered', 'returned', 'cancelled', 'not_created']);

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
  not_created: 4,
};

/** What one provider status means: its normalised status and its order inside the provider's own flow. */
export interface ProviderStatusMeaning {
  status: FulfilmentStatus;
  /** Breaks ties within one normalised status (a late `pending` after `filled` is stale). */
  step: number;
}

/** A provider's statuses (lower-case) → their meaning. Each provider folder writes its table once. */
export type ProviderStatusTable = Readonly<Record<string, ProviderStatusMeaning>>;

/**
 * A provider's table from its flow: each normalised status with the provider's statuses for it, in
 * the order the provider moves through them. Steps follow that order; alternatives that end an
 * order share one step (none of them follows another).
 */
export function providerStatusTable<S extends string>(flow: Partial<Record<FulfilmentStatus, readonly S[]>>): Record<S, ProviderStatusMeaning> {
  const table = {} as Record<S, ProviderStatusMeaning>;
  const entries = Object.entries(flow) as Array<[FulfilmentStatus, readonly S[]]>;
  const last = entries.reduce((n, [, list]) => n + list.length, 1);
  let step = 0;
  for (const [status, list] of entries) {
    for (const providerStatus of list) table[providerStatus] = { status, step: isTerminal(status) ? last : ++step };
  }
  return table;
}

/** The order's tracking details an observation may carry, besides its status. */
export const ORDER_DETAIL_KEYS = ['trackingUrl', 'trackingNumber', 'serviceLevel', 'packagingMethod', 'samedayLocationX', 'samedayLocationY', 'eta'] as const;
type DetailKey = (typeof ORDER_DETAIL_KEYS)[number];

export interface OrderDetails {
  trackingUrl: string | null;
  trackingNumber: string | null;
  serviceLevel: string | null;
  packagingMethod: string | null;
  samedayLocationX: string | null;
  samedayLocationY: string | null;
  eta: Date | null;
}

/** What the state machine needs of a stored order. */
export interface OrderState extends OrderDetails {
  status: FulfilmentStatus;
  providerStatus: string | null;
  providerUpdatedAt: Date | null;
}

/**
 * What a webhook, a sync read or a call's answer saw of an order at its provider. Each provider
 * builds it in one place (caryrx-observation.ts, scriptdrop-observation.ts). A detail left
 * undefined was not sent: the stored value stays.
 */
export interface OrderObservation extends Partial<OrderDetails> {
  /** The vocabulary of the provider that sent it. */
  statuses: ProviderStatusTable;
  providerStatus: string;
  /** The provider's timestamp of this state, when it sent one. */
  providerTimestamp?: Date | null;
}

/**
 * One vocabulary from here to the inbox row and the events: applied (the status or provider status
 * moved), unchanged (same status; newer details, if any, were written), stale (older than what is
 * stored: nothing written), unmatched (no such order: decided by the store).
 */
export type ObservationOutcome = 'applied' | 'unchanged' | 'stale' | 'unmatched';

export type Decision =
  | {
      outcome: 'applied' | 'unchanged';
      /** The order's state after the observation. */
      next: OrderState;
      /** False when nothing is to be written at all. */
      write: boolean;
      /** A provider status the provider's table does not list (kept, normalised status unchanged). */
      unknownProviderStatus: boolean;
    }
  | { outcome: 'stale'; reason: string };

/**
 * Decides what an observation does to an order. Rules, in order:
 * 1. A provider timestamp older than the stored one is stale, whatever the status (details too).
 *    Another status with the same timestamp: the higher of the two (tieKey) wins, on every replica.
 * 2. A terminal order keeps its status: another status is stale; the same status may still bring
 *    newer details.
 * 3. The same provider status: unchanged, with whatever details differ.
 * 4. A lower progress rank, or a lower provider step within one normalised status, is stale.
 * 5. A provider status the table does not know is kept beside the unchanged normalised status
 *    (created and unknown become accepted: any status proves the provider has the order).
 */
export function decide(current: OrderState, observation: OrderObservation): Decision {
  const providerStatus = observation.providerStatus.trim().toLowerCase();
  const timestamp = observation.providerTimestamp ?? null;
  const stored = current.providerUpdatedAt;
  if (timestamp && stored && timestamp.getTime() < stored.getTime()) return { outcome: 'stale', reason: 'older provider timestamp' };

  // The same instant seen twice (two replicas, two deliveries): each detail keeps the greater value,
  // so the result is the same whichever copy is applied first.
  const sameInstant = timestamp !== null && stored !== null && timestamp.getTime() === stored.getTime();
  const details = changedDetails(current, observation, sameInstant);
  const providerUpdatedAt = timestamp && (!stored || timestamp.getTime() > stored.getTime()) ? timestamp : stored;
  const sameStatus = current.providerStatus === providerStatus;
  // Two different statuses stamped with the same instant: which came last cannot be known, so every
  // replica keeps the one that sorts higher (see tieKey), whichever it saw first. Also between two
  // terminal statuses.
  if (sameInstant && !sameStatus) {
    if (compareTieKeys(tieKey(observation.statuses, providerStatus), tieKey(observation.statuses, current.providerStatus)) < 0) {
      // The stored status stays; details still join, so they too end the same in either order.
      const write = Object.keys(details).length > 0;
      return write ? { outcome: 'unchanged', next: { ...current, ...details }, write, unknownProviderStatus: false } : { outcome: 'stale', reason: 'another status of the same instant wins' };
    }
  } else if (isTerminal(current.status) && !sameStatus) return { outcome: 'stale', reason: 'order is terminal' };
  if (sameStatus) {
    const write = Object.keys(details).length > 0 || providerUpdatedAt !== stored;
    return { outcome: 'unchanged', next: { ...current, ...details, providerUpdatedAt }, write, unknownProviderStatus: false };
  }

  const meaning = observation.statuses[providerStatus];
  let status: FulfilmentStatus;
  if (!meaning) {
    status = current.status === 'created' || current.status === 'unknown' ? 'accepted' : current.status;
  } else {
    if (RANK[meaning.status] < RANK[current.status]) return { outcome: 'stale', reason: 'status would move backwards' };
    const currentStep = current.providerStatus ? observation.statuses[current.providerStatus]?.step : undefined;
    if (meaning.status === current.status && currentStep !== undefined && meaning.step < currentStep) {
      return { outcome: 'stale', reason: 'provider status would move backwards' };
    }
    status = meaning.status;
  }
  return {
    outcome: 'applied',
    next: { ...current, ...details, status, providerStatus, providerUpdatedAt },
    write: true,
    unknownProviderStatus: !meaning,
  };
}

/**
 * A total order over provider statuses, the same on every replica: progress rank, then the step in
 * the provider's flow, then the text. A status the table does not know sorts below every known one.
 */
function tieKey(statuses: ProviderStatusTable, providerStatus: string | null): [number, number, string] {
  const meaning = providerStatus ? statuses[providerStatus] : undefined;
  return meaning ? [RANK[meaning.status], meaning.step, providerStatus!] : [-2, -2, providerStatus ?? ''];
}

function compareTieKeys(a: [number, number, string], b: [number, number, string]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i] ? 1 : -1;
  return 0;
}

/** The details of `o` that differ from what `current` holds; `greaterOnly`: only those that sort after it. */
function changedDetails(current: OrderDetails, o: Partial<OrderDetails>, greaterOnly = false): Partial<OrderDetails> {
  const changed: Partial<Record<DetailKey, unknown>> = {};
  for (const key of ORDER_DETAIL_KEYS) {
    const value = o[key];
    if (value === undefined) continue;
    const order = compareDetail(value, current[key]);
    if (order !== 0 && (!greaterOnly || order > 0)) changed[key] = value;
  }
  return changed as Partial<OrderDetails>;
}

/** A fixed order over detail values: null first, dates by time, text by code unit. */
function compareDetail(a: string | Date | null, b: string | Date | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  const x = a instanceof Date ? a.getTime() : a;
  const y = b instanceof Date ? b.getTime() : b;
  return x === y ? 0 : x > y ? 1 : -1;
}

/**
 * The create call's outcome is unknown: only an order still `created` becomes `unknown`. One that
 * moved meanwhile (its webhook arrived before the call's answer) has proved the provider has it.
 */
export const becomesUnknown = (current: Pick<OrderState, 'status'>): boolean => current.status === 'created';

/** A prescription's status as seen at the provider (prescriptions have statuses but no state machine of ours). */
export interface PrescriptionState {
  status: string | null;
  providerUpdatedAt: Date | null;
}

/** Older than stored: stale; the same status: unchanged; anything else applies. */
export function decidePrescription(current: PrescriptionState, seen: PrescriptionState): 'applied' | 'unchanged' | 'stale' {
  if (seen.providerUpdatedAt && current.providerUpdatedAt && seen.providerUpdatedAt.getTime() < current.providerUpdatedAt.getTime()) return 'stale';
  return current.status === seen.status ? 'unchanged' : 'applied';
}
