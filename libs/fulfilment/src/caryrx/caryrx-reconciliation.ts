import { Inject, Injectable, Logger } from '@nestjs/common';
import { RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import type { FulfilmentOrder } from '../orders/entities/fulfilment-order.entity.js';
import { OrderStore } from '../orders/order-store.js';
import { CaryRxService } from './caryrx.service.js';
import type { CaryRxOrder, CaryRxOrderInput } from './caryrx.types.js';
import { CARYRX_DEFAULT_SHIPPING_METHOD } from './caryrx.wire.js';
import { caryRxObservation } from './caryrx-observation.js';

/** What a CaryRx create sent that identifies the order it made (CaryRx ids only), kept on the order row. */
export interface CaryRxCreateSignature {
  patientId: string;
  locationId: string;
  /** Sorted. */
  prescriptionIds: string[];
  shippingMethod: string;
}

export function caryRxCreateSignature(order: CaryRxOrderInput): string {
  const signature: CaryRxCreateSignature = {
    patientId: order.patientId,
    locationId: order.patientLocationId,
    prescriptionIds: [...order.prescriptionIds].sort(),
    shippingMethod: order.shippingMethod ?? CARYRX_DEFAULT_SHIPPING_METHOD,
  };
  return JSON.stringify(signature);
}

/** How far CaryRx's clock may run behind ours: an order it dates this much before our attempt still counts. */
const CLOCK_SKEW_MS = 120_000;

/**
 * linked: found and linked; not_created: not found within the window, closed; not_found_yet: looked
 * again later; ambiguous: more than one order could be the one (identical orders placed close
 * together), left for an operator; no_signature: placed before signatures were kept; not_unknown:
 * something else settled it meanwhile.
 */
export type ReconcileOutcome = 'linked' | 'not_created' | 'not_found_yet' | 'ambiguous' | 'no_signature' | 'not_unknown';

/**
 * Settles CaryRx orders whose create outcome is unknown (the call timed out or broke after it was
 * sent). CaryRx has no search by our key, but `GET /v1/patients/:patientId` lists the patient's
 * orders: an order there created after our attempt, not linked to another local order, with the
 * same prescriptions, location and shipping method is the one the lost call made. It is linked
 * and its status applied at once (history source `reconcile`). An order still not found once
 * `sync.reconcileWindowMs` has passed since the attempt is closed as `not_created`, which the host
 * hears as any status change.
 */
@Injectable()
export class CaryRxReconciliation {
  private readonly logger = new Logger('Fulfilment:CaryRx');

  constructor(
    private readonly caryrx: CaryRxService,
    private readonly store: OrderStore,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedFulfilmentOptions,
  ) {}

  /**
   * One pass over the unknown orders due for it, leased to `owner` (several replicas never work on
   * one order at once). Returns what happened to each.
   */
  async reconcileDue(owner: string, limit = 20): Promise<Map<string, ReconcileOutcome>> {
    const now = new Date();
    const outcomes = new Map<string, ReconcileOutcome>();
    const orders = await this.store.claimUnknown({ owner, provider: 'caryrx', limit, now, leaseUntil: new Date(now.getTime() + this.options.sync.leaseMs) });
    for (const order of orders) {
      let outcome: ReconcileOutcome;
      try {
        outcome = await this.reconcile(order);
      } catch (err) {
        this.logger.warn(`order ${order.id}: reconciling failed (${(err as Error).message}); tried again later`);
        outcome = 'not_found_yet';
      }
      outcomes.set(order.id, outcome);
      if (outcome !== 'linked' && outcome !== 'not_created') {
        // An ambiguous order waits for an operator: looked at again rarely, not every tick.
        const { intervalMs, reconcileWindowMs } = this.options.sync;
        const after = outcome === 'ambiguous' ? Math.max(intervalMs, reconcileWindowMs) : intervalMs;
        await this.store.releaseUnknown(owner, order.id, new Date(Date.now() + after));
      }
    }
    return outcomes;
  }

  /** Reconciles one order now (the operator's "look again"); the result as for reconcileDue. */
  async reconcile(order: FulfilmentOrder): Promise<ReconcileOutcome> {
    if (order.status !== 'unknown' || order.providerOrderId) return 'not_unknown';
    if (!order.createSignature) {
      // Orders stored before signatures existed: only an operator can settle them (resolveUnknown).
      return 'no_signature';
    }
    const signature = JSON.parse(order.createSignature) as CaryRxCreateSignature;
    const found = await this.findCreated(order, signature);
    if (found === 'ambiguous') {
      this.logger.warn(`order ${order.id}: more than one CaryRx order could be the one its lost create made; resolve it with resolveUnknown()`);
      return 'ambiguous';
    }
    if (found) {
      const observation = caryRxObservation(found);
      const { conflict } = await this.store.resolveUnknown(order.id, { providerOrderId: found.id, providerCreatedAt: found.createdAt, observation }, { source: 'reconcile', actor: null });
      if (!conflict) {
        this.logger.log(`order ${order.id}: found at CaryRx as ${found.id} and linked`);
        return 'linked';
      }
      return conflict.includes('not unknown') ? 'not_unknown' : 'not_found_yet';
    }
    if (Date.now() - order.createdAt.getTime() < this.options.sync.reconcileWindowMs) return 'not_found_yet';
    const minutes = Math.round(this.options.sync.reconcileWindowMs / 60_000);
    const { conflict } = await this.store.resolveUnknown(order.id, { notCreated: true, reason: `not found among the patient's CaryRx orders within ${minutes} min of the attempt` }, { source: 'reconcile', actor: null });
    if (conflict) return 'not_unknown';
    this.logger.warn(`order ${order.id}: not found at CaryRx within ${minutes} min; closed as not_created`);
    return 'not_created';
  }

  /**
   * The patient's order that the lost create made, if CaryRx lists exactly one that can be it: made
   * after the attempt, held by no local order, matching the signature, and no other unknown local
   * order with the same signature could have made it. Identical orders placed close together cannot
   * be told apart (CaryRx keeps no key of ours): `ambiguous`, never a guess.
   */
  private async findCreated(order: FulfilmentOrder, signature: CaryRxCreateSignature): Promise<CaryRxOrder | 'ambiguous' | undefined> {
    const patient = await this.caryrx.getPatient(signature.patientId);
    const since = order.createdAt.getTime() - CLOCK_SKEW_MS;
    const recent = patient.orders.filter((ref) => !ref.createdAt || ref.createdAt.getTime() >= since);
    const held = await this.store.heldProviderOrderIds('caryrx', recent.map((ref) => ref.id));
    const candidates: CaryRxOrder[] = [];
    for (const ref of recent) {
      if (held.has(ref.id)) continue;
      const candidate = await this.caryrx.getOrder(ref.id);
      if (matches(candidate, signature)) candidates.push(candidate);
    }
    if (candidates.length === 0) return undefined;
    if (candidates.length > 1) return 'ambiguous';
    const [found] = candidates;
    // Another unknown order with the same signature, attempted before CaryRx made this one, may be its maker.
    const madeBy = (found.createdAt?.getTime() ?? Date.now()) + CLOCK_SKEW_MS;
    const rivals = (await this.store.unknownOrdersWithSignature('caryrx', order.createSignature!)).filter((o) => o.id !== order.id && o.createdAt.getTime() <= madeBy);
    return rivals.length > 0 ? 'ambiguous' : found;
  }
}

/** The same prescriptions and shipping method, and the same location where CaryRx's answer names one. */
function matches(candidate: CaryRxOrder, signature: CaryRxCreateSignature): boolean {
  const prescriptions = candidate.prescriptions.map((p) => p.id).sort();
  if (prescriptions.length !== signature.prescriptionIds.length || prescriptions.some((id, i) => id !== signature.prescriptionIds[i])) return false;
  if (candidate.shippingMethod && candidate.shippingMethod !== signature.shippingMethod) return false;
  return !candidate.patientLocationId || candidate.patientLocationId === signature.locationId;
}
