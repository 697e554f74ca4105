import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { FulfilmentEntity, TimestampColumn, Varchar } from './columns.js';

/**
 * A domain event, written in the same transaction as the change it reports (the transactional
 * outbox). The replica that committed it delivers it to the host's listeners at once and marks it
 * `delivered_at`; a row still undelivered when its lease ends (its replica died, or a listener
 * failed) is claimed and delivered again by one replica. The id is the event id listeners dedupe on.
 */
@Entity({ name: 'fulfilment_outbox' })
// Undelivered rows only: the relay's claim reads few rows, however many were delivered.
@Index('ix_fulfilment_outbox_pending', ['id'], { where: 'delivered_at IS NULL' })
// Delivered rows by age, for retention's batches (retention.deliveredEventsDays).
@Index('ix_fulfilment_outbox_delivered', ['deliveredAt'], { where: 'delivered_at IS NOT NULL' })
export class FulfilmentOutboxEvent extends FulfilmentEntity {
  /** Time-ordered, and increasing within a process: events of one order are claimed in the order they were written. */
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** The event name, e.g. `fulfilment.order.status_changed`. */
  @Varchar('name', 64)
  name: string;

  /** The event as listeners receive it (ids and statuses only), as JSON. */
  @Column({ type: 'text', name: 'payload' })
  payload: string;

  @TimestampColumn('created_at')
  createdAt: Date;

  @TimestampColumn('delivered_at', { nullable: true })
  deliveredAt: Date | null;

  /** The replica delivering it, until `lease_until`. */
  @Varchar('lease_owner', 64, { nullable: true })
  leaseOwner: string | null;

  @TimestampColumn('lease_until', { nullable: true })
  leaseUntil: Date | null;

  /** Deliveries that did not succeed (a listener threw or rejected). */
  @Column({ type: 'integer', name: 'failures', default: 0 })
  failures: number;

  @Varchar('last_error', 500, { nullable: true })
  lastError: string | null;
}
