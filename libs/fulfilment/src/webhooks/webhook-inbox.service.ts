import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { FULFILMENT_DATA_SOURCE } from '../fulfilment.constants.js';
import type { ProviderName } from '../http/provider-errors.js';
import { WebhookInboxEvent, type InboxOutcome } from './entities/webhook-inbox-event.entity.js';
import { WebhookRegistration } from './entities/webhook-registration.entity.js';
import { runTransaction } from '../orders/sqlite-serialiser.js';
import { insertRow, rowExists } from '../orders/row-sql.js';

export interface InboxEntry {
  provider: ProviderName;
  /** e.g. `caryrx.order`. */
  topic: string;
  entityId: string;
  providerStatus: string | null;
  providerTimestamp: Date | null;
  /** The minimised event (ids, statuses, timestamps, tracking): never names or addresses. */
  payload: Record<string, unknown>;
  dedupKey: string;
}

export interface InboxApplyResult {
  outcome: InboxOutcome;
  /** Runs once the transaction committed (publish domain events). */
  afterCommit?: () => void;
}

export interface InboxReceipt {
  /** The same event was stored before: acknowledged, not applied again. */
  duplicate: boolean;
  outcome: InboxOutcome | null;
}

/**
 * INSERT that reports whether the row is new (`ON CONFLICT DO NOTHING RETURNING`, on PostgreSQL and
 * SQLite). A duplicate raises no error, so a PostgreSQL transaction stays usable after it.
 * `returning` is any column of the table.
 */
export async function insertIfNew<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  row: T,
  returning: string,
): Promise<boolean> {
  return (await insertRow(manager, entity, row, { ignoreConflict: true, returning })).length > 0;
}

/** Stable JSON: object keys sorted at every level, so one event always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/**
 * The dedup key of an event: entity id + provider timestamp + status when the provider sent a
 * timestamp; otherwise a sha256 of the canonical body (a redelivery is byte-for-byte the same event).
 */
export function inboxDedupKey(topic: string, entityId: string, status: string | null, timestamp: Date | null, body: unknown): string {
  if (timestamp) return `${topic}:${entityId}:${timestamp.toISOString()}:${status ?? ''}`.slice(0, 191);
  return `${topic}:sha256:${createHash('sha256').update(canonicalJson(body)).digest('hex')}`;
}

interface PendingEvent {
  row: WebhookInboxEvent;
  apply: (manager: EntityManager) => Promise<InboxApplyResult>;
  resolve: (receipt: InboxReceipt) => void;
  reject: (err: unknown) => void;
}

/** Another writer committed the same event between our check and our insert (PostgreSQL). */
class StoredMeanwhile extends Error {}

type AppliedResult = { duplicate: true } | { duplicate: false; applied: InboxApplyResult };

/** Events committed together at most; enough to absorb a burst, small enough to keep latency low. */
const MAX_BATCH = 64;
/** Concurrent batch writers on PostgreSQL (each holds one pooled connection while it commits). */
const POSTGRES_WRITERS = 4;

/**
 * The webhook inbox: each event is inserted with its dedup key and applied before the provider gets
 * its 2xx. A dedup-key conflict means the event was stored before: it is acknowledged and not
 * applied again. If applying fails, the event is still stored (outcome `failed`) and acknowledged:
 * it is in the inbox, and the status sync catches the order up.
 *
 * Group commit: events that arrive while a transaction is committing wait and are then written
 * together in ONE transaction (see commit() for what happens when one of them fails). Every event
 * is still committed before its 2xx; what is saved is a commit (an fsync on PostgreSQL, a WAL write
 * on SQLite) and a transaction per event.
 */
@Injectable()
export class WebhookInboxService {
  private readonly logger = new Logger('Fulfilment:Webhooks');
  private readonly pending: PendingEvent[] = [];
  private writers = 0;

  constructor(@Inject(FULFILMENT_DATA_SOURCE) private readonly dataSource: DataSource) {}

  receive(entry: InboxEntry, apply: (manager: EntityManager) => Promise<InboxApplyResult>): Promise<InboxReceipt> {
    const row: WebhookInboxEvent = {
      dedupKey: entry.dedupKey,
      provider: entry.provider,
      topic: entry.topic,
      entityId: entry.entityId,
      providerStatus: entry.providerStatus?.slice(0, 64) ?? null,
      providerTimestamp: entry.providerTimestamp,
      payload: JSON.stringify(entry.payload),
      outcome: null,
      error: null,
      receivedAt: new Date(),
      processedAt: null,
    };
    return new Promise<InboxReceipt>((resolve, reject) => {
      this.pending.push({ row, apply, resolve, reject });
      this.drain();
    });
  }

  /**
   * Writers take whatever has queued up and commit it as one batch. SQLite has one writer (it
   * serialises writes anyway); PostgreSQL a few, each on its own pooled connection.
   */
  private drain(): void {
    const limit = this.dataSource.options.type === 'postgres' ? POSTGRES_WRITERS : 1;
    while (this.writers < limit && this.pending.length > 0) {
      // Lock rows in one order across concurrent batches (stable: arrival order kept per entity).
      const batch = this.pending.splice(0, MAX_BATCH).sort((a, b) => (a.row.entityId < b.row.entityId ? -1 : a.row.entityId > b.row.entityId ? 1 : 0));
      this.writers++;
      void this.commit(batch).finally(() => {
        this.writers--;
        this.drain();
      });
    }
  }

  /**
   * Optimistic: the whole batch in one transaction. If anything in it fails (an event that cannot
   * be applied, a deadlock, a copy committed by another writer meanwhile), the batch is rolled back
   * and each event is committed on its own, where a failing one is stored as `failed` without
   * taking the others down.
   */
  private async commit(batch: PendingEvent[]): Promise<void> {
    try {
      const results = await runTransaction(this.dataSource, async (manager) => {
        const out: AppliedResult[] = [];
        for (const event of batch) out.push(await this.writeOne(manager, event));
        return out;
      });
      batch.forEach((event, i) => this.settle(event, results[i]));
      return;
    } catch (err) {
      if (batch.length === 1) return this.commitAlone(batch[0], err);
    }
    for (const event of batch) {
      try {
        this.settle(event, await runTransaction(this.dataSource, (manager) => this.writeOne(manager, event)));
      } catch (err) {
        await this.commitAlone(event, err);
      }
    }
  }

  private settle(event: PendingEvent, result: AppliedResult): void {
    if (result.duplicate) return event.resolve({ duplicate: true, outcome: null });
    result.applied.afterCommit?.();
    event.resolve({ duplicate: false, outcome: result.applied.outcome });
  }

  /**
   * Seen before? Then nothing is applied. Otherwise apply, and insert the inbox row once, with its
   * outcome: one write instead of an insert and an update. Two copies can pass the first check at
   * once only on PostgreSQL (several writers); the second one's insert then conflicts, and
   * throwing rolls back whatever it applied.
   */
  private async writeOne(manager: EntityManager, { row, apply }: PendingEvent): Promise<AppliedResult> {
    if (await rowExists(manager, WebhookInboxEvent, { dedupKey: row.dedupKey })) return { duplicate: true };
    const applied = await apply(manager);
    const stored = await insertIfNew(manager, WebhookInboxEvent, { ...row, outcome: applied.outcome, processedAt: new Date() }, 'dedup_key');
    if (!stored) throw new StoredMeanwhile();
    return { duplicate: false, applied };
  }

  /** The event on its own failed: a copy committed meanwhile is a duplicate; anything else is stored as failed. */
  private async commitAlone(event: PendingEvent, err: unknown): Promise<void> {
    if (err instanceof StoredMeanwhile) return event.resolve({ duplicate: true, outcome: null });
    return this.commitFailed(event, err);
  }

  /** Applying failed: keep the event, marked failed, and acknowledge it. If even that fails, 500. */
  private async commitFailed(event: PendingEvent, err: unknown): Promise<void> {
    const { row } = event;
    const error = `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`.slice(0, 500);
    this.logger.error(`${row.topic} ${row.entityId}: applying failed, stored as failed (${error})`);
    try {
      const inserted = await runTransaction(this.dataSource, (manager) =>
        insertIfNew(manager, WebhookInboxEvent, { ...row, outcome: 'failed', error, processedAt: new Date() }, 'dedup_key'),
      );
      event.resolve({ duplicate: !inserted, outcome: inserted ? 'failed' : null });
    } catch (storeErr) {
      // The database itself refused: nothing is stored, the provider gets a 500 and delivers again.
      event.reject(storeErr);
    }
  }

  /**
   * Marks a registration confirmed (its test payload arrived), inside the event's transaction.
   * Only an unconfirmed registration is written.
   */
  async confirmRegistration(manager: EntityManager, provider: ProviderName, topic: string, at = new Date()): Promise<void> {
    await manager
      .createQueryBuilder()
      .update(WebhookRegistration)
      .set({ confirmedAt: at })
      .where('provider = :provider AND topic = :topic AND confirmed_at IS NULL', { provider, topic })
      .execute();
  }

}
