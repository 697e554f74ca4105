import { Entity, Index, PrimaryColumn } from 'typeorm';
import { FulfilmentEntity, IdColumn, TimestampColumn, Varchar } from './columns.js';
import type { ProviderName } from '../../http/provider-errors.js';

/**
 * A prescription known to the pharmacy, tracked by id and status only (no medication, no patient
 * details): enough to tell the host it arrived and to put it on an order.
 */
@Entity({ name: 'fulfilment_prescriptions' })
@Index('uq_fulfilment_prescriptions_provider', ['provider', 'providerPrescriptionId'], { unique: true })
export class Prescription extends FulfilmentEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Varchar('provider', 16)
  provider: ProviderName;

  @IdColumn('provider_prescription_id')
  providerPrescriptionId: string;

  @IdColumn('provider_patient_id', { nullable: true })
  providerPatientId: string | null;

  @Varchar('status', 64, { nullable: true })
  status: string | null;

  @TimestampColumn('provider_updated_at', { nullable: true })
  providerUpdatedAt: Date | null;

  @TimestampColumn('created_at')
  createdAt: Date;

  @TimestampColumn('updated_at')
  updatedAt: Date;
}
