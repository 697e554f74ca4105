import { Entity, Index, PrimaryColumn, ManyToOne, JoinColumn, type Relation } from 'typeorm';
import { FulfilmentEntity, TimestampColumn, Varchar } from './columns.js';
import { FulfilmentOrder } from './fulfilment-order.entity.js';
import type { FulfilmentStatus } from '../order-state-machine.js';

/** reconcile: an `unknown` order settled by reconciliation (found at the provider, or closed as not created); ops: an operator's action in the ops console. */
export type StatusChangeSource = 'create' | 'webhook' | 'sync' | 'api' | 'reconcile' | 'ops';

/** One row per real transition of an order; written in the same transaction as the order update. */
@Entity({ name: 'fulfilment_order_status_history' })
@Index('ix_fulfilment_history_order', ['orderId', 'createdAt'])
// Retention (retention.terminalOrderHistoryDays): old rows found oldest first, in batches.
@Index('ix_fulfilment_history_created', ['createdAt'])
export class OrderStatusHistory extends FulfilmentEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Varchar('order_id', 36)
  orderId: string;

  @ManyToOne(() => FulfilmentOrder, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'order_id' })
  order?: Relation<FulfilmentOrder>;

  @Varchar('from_status', 32, { nullable: true })
  fromStatus: FulfilmentStatus | null;

  @Varchar('to_status', 32)
  toStatus: FulfilmentStatus;

  @Varchar('from_provider_status', 64, { nullable: true })
  fromProviderStatus: string | null;

  @Varchar('to_provider_status', 64, { nullable: true })
  toProviderStatus: string | null;

  @Varchar('source', 16)
  source: StatusChangeSource;

  @TimestampColumn('provider_timestamp', { nullable: true })
  providerTimestamp: Date | null;

  /** Who asked for the change, when a person did (source `ops`: the name the console's guard gave). */
  @Varchar('actor', 128, { nullable: true })
  actor: string | null;

  @TimestampColumn('created_at')
  createdAt: Date;
}
