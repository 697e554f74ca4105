import { Entity, Index, PrimaryColumn, ManyToOne, JoinColumn, type Relation } from 'typeorm';
import { FulfilmentEntity, IdColumn, TimestampColumn, Varchar } from './columns.js';
import { PatientLink } from './patient-link.entity.js';

/** A delivery location registered with the provider. The address itself is not stored. */
@Entity({ name: 'fulfilment_patient_locations' })
@Index('ix_fulfilment_locations_patient', ['patientLinkId'])
export class PatientLocation extends FulfilmentEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Varchar('patient_link_id', 36)
  patientLinkId: string;

  @ManyToOne(() => PatientLink, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'patient_link_id' })
  patientLink?: Relation<PatientLink>;

  @IdColumn('provider_location_id', { unique: true })
  providerLocationId: string;

  /** The location's label such as "home" (not an address). */
  @Varchar('label', 64, { nullable: true })
  label: string | null;

  @TimestampColumn('created_at')
  createdAt: Date;
}
