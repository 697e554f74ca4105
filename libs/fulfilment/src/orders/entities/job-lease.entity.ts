import { Entity, PrimaryColumn } from 'typeorm';
import { FulfilmentEntity, TimestampColumn, Varchar } from './columns.js';

/**
 * A lease on a job that one replica at a time may run (e.g. `retention`): one row per job, claimed
 * by a conditional upsert that succeeds only when the lease is free, expired or already ours
 * (OrderStore.claimJobLease). Works across processes on PostgreSQL and SQLite alike.
 */
@Entity({ name: 'fulfilment_job_leases' })
export class JobLease extends FulfilmentEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  /** The replica holding the lease. */
  @Varchar('owner', 64)
  owner: string;

  /** Free again after this instant (a crashed holder's lease simply runs out). */
  @TimestampColumn('lease_until')
  leaseUntil: Date;
}
