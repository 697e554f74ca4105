import { Entity, Index, PrimaryColumn } from 'typeorm';
import { FulfilmentEntity, IdColumn, TimestampColumn, Varchar } from './columns.js';
import type { ProviderName } from '../../http/provider-errors.js';

/**
 * Links the host's patient reference to the provider's patient id. Deliberately holds no name,
 * date of birth, email or phone: those stay in the host's own records and are only sent on.
 */
@Entity({ name: 'fulfilment_patient_links' })
@Index('uq_fulfilment_patient_links_host', ['provider', 'hostReference'], { unique: true })
@Index('uq_fulfilment_patient_links_provider', ['provider', 'providerPatientId'], { unique: true })
export class PatientLink extends FulfilmentEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Varchar('provider', 16)
  provider: ProviderName;

  @Varchar('host_reference', 255)
  hostReference: string;

  /** NULL while the create call is in flight or its outcome is unknown. */
  @IdColumn('provider_patient_id', { nullable: true })
  providerPatientId: string | null;

  @TimestampColumn('created_at')
  createdAt: Date;

  @TimestampColumn('updated_at')
  updatedAt: Date;
}
