import { Entity, Index, PrimaryColumn, Column } from 'typeorm';
import { FulfilmentEntity, TimestampColumn, Varchar } from './columns.js';
import type { ProviderName } from '../../http/provider-errors.js';

/**
 * A callback registered with a provider. The callback URL is stored without its token; the
 * fingerprint (a short hash) tells which secret it carries, for rotation.
 */
@Entity({ name: 'fulfilment_webhook_registrations' })
@Index('uq_fulfilment_webhook_registrations_topic', ['provider', 'topic'], { unique: true })
export class WebhookRegistration extends FulfilmentEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Varchar('provider', 16)
  provider: ProviderName;

  /** `prescriptions` or `orders`. */
  @Varchar('topic', 32)
  topic: string;

  @Column({ type: 'text', name: 'callback_url' })
  callbackUrl: string;

  @Varchar('secret_fingerprint', 16)
  secretFingerprint: string;

  @TimestampColumn('registered_at')
  registeredAt: Date;

  /** When the provider's test payload arrived on the callback. */
  @TimestampColumn('confirmed_at', { nullable: true })
  confirmedAt: Date | null;
}
