import { Entity, Index, PrimaryColumn, Column } from 'typeorm';
import { FulfilmentEntity, IdColumn, TimestampColumn, Varchar } from './columns.js';
import type { ProviderName } from '../../http/provider-errors.js';

/**
 * applied: changed our state; unchanged: same state as stored; stale: older than what is stored;
 * unmatched: about an object we do not hold; test: a registration test payload; failed: applying threw.
 */
export const INBOX_OUTCOMES = ['applied', 'unchanged', 'stale', 'unmatched', 'test', 'failed'] as const;
export type InboxOutcome = (typeof INBOX_OUTCOMES)[number];

/**
 * Every accepted webhook, written before the 2xx. The dedup key is the primary key, so a second
 * delivery of the same event conflicts on insert and is acknowledged without being applied again.
 * `payload` is the minimised event (ids, statuses, timestamps): names and addresses are dropped.
 */
@Entity({ name: 'fulfilment_webhook_inbox' })
@Index('ix_fulfilment_inbox_entity', ['topic', 'entityId'])
// Order events waiting for their order (see OrderStore.linkCreated): few rows, whatever the inbox's size.
@Index('ix_fulfilment_inbox_unmatched', ['provider', 'entityId'], { where: "outcome = 'unmatched'" })
// The ops console's inbox pages, one outcome at a time, newest first (migration 1764700000000).
@Index('ix_fulfilment_inbox_outcome_received', ['outcome', 'receivedAt', 'dedupKey'])
// Retention: rows past webhooks.retentionDays are found oldest first, in batches (appended to at the right edge only).
@Index('ix_fulfilment_inbox_received', ['receivedAt'])
export class WebhookInboxEvent extends FulfilmentEntity {
  @PrimaryColumn({ type: 'varchar', length: 191, name: 'dedup_key' })
  dedupKey: string;

  @Varchar('provider', 16)
  provider: ProviderName;

  /** e.g. `caryrx.order`, `caryrx.prescription`. */
  @Varchar('topic', 32)
  topic: string;

  @IdColumn('entity_id')
  entityId: string;

  @Varchar('provider_status', 64, { nullable: true })
  providerStatus: string | null;

  @TimestampColumn('provider_timestamp', { nullable: true })
  providerTimestamp: Date | null;

  @Column({ type: 'text', name: 'payload' })
  payload: string;

  @Varchar('outcome', 16, { nullable: true })
  outcome: InboxOutcome | null;

  @Varchar('error', 500, { nullable: true })
  error: string | null;

  @TimestampColumn('received_at')
  receivedAt: Date;

  @TimestampColumn('processed_at', { nullable: true })
  processedAt: Date | null;
}
