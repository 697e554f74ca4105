import { randomUUID } from 'node:crypto';
import { Entity, Index, PrimaryColumn, Column } from 'typeorm';
import { FulfilmentEntity, IdColumn, TimestampColumn, Varchar } from './columns.js';
import type { FulfilmentStatus } from '../order-state-machine.js';
import type { ProviderName } from '../../http/provider-errors.js';

/**
 * One order placed through either provider. Provider-agnostic: CaryRx orders and ScriptDrop
 * deliveries share this table, the state machine and the status history.
 *
 * Holds no patient data: ids, the host's reference, statuses, tracking and timestamps only.
 */
/**
 * Orders not in a terminal status, spelled once for the partial index below and the store's reads:
 * SQLite uses a partial index only for a query that repeats its condition word for word.
 */
export const OPEN_ORDER_CONDITION = "status NOT IN ('delivered', 'returned', 'cancelled', 'not_created')";

@Entity({ name: 'fulfilment_orders' })
@Index('uq_fulfilment_orders_provider_order', ['provider', 'providerOrderId'], { unique: true })
// The sync scans due, open orders only: terminal orders have next_sync_at NULL and fall out of
// this partial index, so a tick's cost depends on open orders, not on every order ever made.
@Index('ix_fulfilment_orders_due', ['nextSyncAt'], { where: 'next_sync_at IS NOT NULL' })
// Orders whose create outcome is unknown, for reconciliation: few rows, whatever the table's size.
@Index('ix_fulfilment_orders_unknown', ['provider', 'createdAt'], { where: "status = 'unknown'" })
// Open orders by provider and status, for the metrics' counts: an index-only read of open orders.
@Index('ix_fulfilment_orders_open', ['provider', 'status'], { where: OPEN_ORDER_CONDITION })
// The ops console's pages (keyset, newest first; open orders by last change): migration 1764700000000.
@Index('ix_fulfilment_orders_created', ['createdAt', 'id'])
@Index('ix_fulfilment_orders_provider_created', ['provider', 'createdAt', 'id'])
@Index('ix_fulfilment_orders_status_created', ['status', 'createdAt', 'id'])
@Index('ix_fulfilment_orders_open_updated', ['updatedAt', 'id'], { where: "status NOT IN ('delivered', 'returned', 'cancelled', 'not_created')" })
export class FulfilmentOrder extends FulfilmentEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Varchar('provider', 16)
  provider: ProviderName;

  /** The provider's id; NULL until the create call answered (and forever if its outcome is unknown). */
  @IdColumn('provider_order_id', { nullable: true })
  providerOrderId: string | null;

  /** Unique per order; sent to ScriptDrop as external_reference_number. */
  @Varchar('idempotency_key', 255, { unique: true })
  idempotencyKey: string;

  /** The host's own reference for the order (e.g. its checkout id). */
  @Index('ix_fulfilment_orders_host_reference')
  @Varchar('host_reference', 255, { nullable: true })
  hostReference: string | null;

  /** Normalised status, see order-status.ts. */
  @Varchar('status', 32)
  status: FulfilmentStatus;

  /** The provider's own status, verbatim (kept even when the state machine does not know it). */
  @Varchar('provider_status', 64, { nullable: true })
  providerStatus: string | null;

  /** CaryRx shipping_method or ScriptDrop service_level. */
  @Varchar('service_level', 64, { nullable: true })
  serviceLevel: string | null;

  @Varchar('tracking_number', 128, { nullable: true })
  trackingNumber: string | null;

  @Column({ type: 'text', name: 'tracking_url', nullable: true })
  trackingUrl: string | null;

  @TimestampColumn('eta', { nullable: true })
  eta: Date | null;

  /** CaryRx packaging_method (e.g. `usps_firstclass`). */
  @Varchar('packaging_method', 64, { nullable: true })
  packagingMethod: string | null;

  /** CaryRx sameday_location_x / _y, verbatim (the document types them as strings only). */
  @Varchar('sameday_location_x', 64, { nullable: true })
  samedayLocationX: string | null;

  @Varchar('sameday_location_y', 64, { nullable: true })
  samedayLocationY: string | null;

  /** Local id of the CaryRx patient link (NULL for ScriptDrop deliveries). */
  @Varchar('patient_link_id', 36, { nullable: true })
  patientLinkId: string | null;

  /**
   * What the create call sent that identifies the provider's order (provider ids only, never patient
   * data), as JSON: lets reconciliation recognise an order a lost create made. See CreateSignature.
   */
  @Column({ type: 'text', name: 'create_signature', nullable: true })
  createSignature: string | null;

  @TimestampColumn('provider_created_at', { nullable: true })
  providerCreatedAt: Date | null;

  /** Provider timestamp of the newest state applied; older observations are stale. */
  @TimestampColumn('provider_updated_at', { nullable: true })
  providerUpdatedAt: Date | null;

  /** Why the order is `unknown` or why the last call failed; never patient data. */
  @Varchar('last_error', 500, { nullable: true })
  lastError: string | null;

  /** Bumped on every status change. */
  @Column({ type: 'integer', name: 'version', default: 0 })
  version: number;

  // --- sync bookkeeping -------------------------------------------------------------------------
  /** When the status sync should read this order next; NULL once terminal. */
  @TimestampColumn('next_sync_at', { nullable: true })
  nextSyncAt: Date | null;

  @Varchar('sync_lease_owner', 64, { nullable: true })
  syncLeaseOwner: string | null;

  @TimestampColumn('sync_lease_until', { nullable: true })
  syncLeaseUntil: Date | null;

  @Column({ type: 'integer', name: 'sync_failures', default: 0 })
  syncFailures: number;

  @TimestampColumn('last_synced_at', { nullable: true })
  lastSyncedAt: Date | null;

  @TimestampColumn('created_at')
  createdAt: Date;

  @TimestampColumn('updated_at')
  updatedAt: Date;
}

/**
 * A complete new order row: every column set (nothing left to database defaults), a fresh id, no
 * provider state yet, not due for sync. `fields` names the provider, the idempotency key and the
 * status, and may set any other column.
 */
export function newFulfilmentOrder(
  fields: Pick<FulfilmentOrder, 'provider' | 'idempotencyKey' | 'status'> & Partial<FulfilmentOrder>,
  now = new Date(),
): FulfilmentOrder {
  return Object.assign(new FulfilmentOrder(), {
    id: randomUUID(),
    providerOrderId: null,
    hostReference: null,
    providerStatus: null,
    serviceLevel: null,
    trackingNumber: null,
    trackingUrl: null,
    eta: null,
    packagingMethod: null,
    samedayLocationX: null,
    samedayLocationY: null,
    patientLinkId: null,
    createSignature: null,
    providerCreatedAt: null,
    providerUpdatedAt: null,
    lastError: null,
    version: 0,
    nextSyncAt: null,
    syncLeaseOwner: null,
    syncLeaseUntil: null,
    syncFailures: 0,
    lastSyncedAt: null,
    createdAt: now,
    updatedAt: now,
    ...fields,
  } satisfies FulfilmentOrder);
}
