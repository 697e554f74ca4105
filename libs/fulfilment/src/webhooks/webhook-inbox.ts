import { Inject, Injectable, Optional } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FULFILMENT_METRICS } from '../fulfilment.constants.js';
import type { ProviderName } from '../http/provider-errors.js';
import { OrderStore, storedObservation, type InboxEffect, type InboxResult, type InboxWrite } from '../orders/order-store.js';
import { WebhookActivity } from './webhook-activity.js';

export interface InboxEntry {
  provider: ProviderName;
  /** e.g. `caryrx.order`. */
  topic: string;
  entityId: string;
  providerStatus: string | null;
  providerTimestamp: Date | null;
  /**
   * The minimised event (ids, statuses, timestamps): never names or addresses. An order event
   * keeps its observation instead (what applying it later needs), so it needs none.
   */
  payload?: Record<string, unknown>;
  /** The body as received: hashed for the dedup key when the event carries no timestamp. */
  raw: unknown;
}

export type InboxReceipt = InboxResult;

/**
 * Told what became of each webhook (the module's metrics): `outcome` is the inbox outcome
 * (`applied`, `unchanged`, `stale`, `unmatched`, `test`, `failed`), `duplicate`, or why it was
 * refused (`unauthorized`, `invalid_body`, `too_large`, `unsupported_media_type`, `error`);
 * `seconds` is the time from receipt to commit, for a stored event. Cheap, synchronous, never throws.
 */
export interface WebhookObserver {
  webhookHandled(provider: ProviderName, topic: string, outcome: string, seconds?: number): void;
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

interface Pending {
  write: InboxWrite;
  /** performance.now() at receipt. */
  received: number;
  resolve: (receipt: InboxReceipt) => void;
  reject: (err: unknown) => void;
}

/** Events committed together at most; enough to absorb a burst, small enough to keep latency low. */
const MAX_BATCH = 64;
/** Concurrent batch writers on PostgreSQL (each holds one pooled connection while it commits). */
const POSTGRES_WRITERS = 4;

/**
 * The webhook inbox: each event gets its dedup key and is handed to OrderStore.recordInbox, which
 * stores it and applies its effect before the provider gets its 2xx. A duplicate is acknowledged
 * and not applied again; an event that cannot be applied is still stored (`failed`) and
 * acknowledged: it is in the inbox, and the status sync catches the order up.
 *
 * Group commit: events that arrive while a batch is committing wait and are then written together
 * in ONE transaction. Every event is still committed before its 2xx; what is saved is a commit and
 * the per-event statements.
 */
@Injectable()
export class WebhookInbox {
  private readonly pending: Pending[] = [];
  private writers = 0;
  private readonly maxWriters: number;
  private drainScheduled = false;

  constructor(
    private readonly store: OrderStore,
    private readonly activity: WebhookActivity,
    @Optional() @Inject(FULFILMENT_METRICS) private readonly observer?: WebhookObserver | null,
  ) {
    this.maxWriters = store.concurrentWriters ? POSTGRES_WRITERS : 1;
  }

  receive(entry: InboxEntry, effect: InboxEffect): Promise<InboxReceipt> {
    const write: InboxWrite = {
      row: {
        dedupKey: inboxDedupKey(entry.topic, entry.entityId, entry.providerStatus, entry.providerTimestamp, entry.raw),
        provider: entry.provider,
        topic: entry.topic,
        entityId: entry.entityId,
        providerStatus: entry.providerStatus?.slice(0, 64) ?? null,
        providerTimestamp: entry.providerTimestamp,
        payload: effect.order ? storedObservation(effect.order.observation) : JSON.stringify(entry.payload ?? {}),
        outcome: null,
        error: null,
        receivedAt: new Date(),
        processedAt: null,
      },
      effect,
    };
    return new Promise<InboxReceipt>((resolve, reject) => {
      this.pending.push({ write, received: performance.now(), resolve, reject });
      // After the event loop's I/O phase, not now: every request that phase read joins one batch
      // (one commit), instead of the first one committing alone while the others wait.
      if (!this.drainScheduled) {
        this.drainScheduled = true;
        setImmediate(() => {
          this.drainScheduled = false;
          this.drain();
        });
      }
    });
  }

  /**
   * A stored event: answered, then counted with its outcome and time to commit (a refused one is
   * counted where it is answered); a duplicate is also listed for the ops console.
   */
  private settled(pending: Pending, receipt: InboxReceipt): void {
    pending.resolve(receipt);
    const { row } = pending.write;
    this.observer?.webhookHandled(row.provider, row.topic, receipt.duplicate ? 'duplicate' : (receipt.outcome ?? 'stored'), (performance.now() - pending.received) / 1000);
    if (receipt.duplicate) this.activity.record({ kind: 'duplicate', provider: row.provider, topic: row.topic, entityId: row.entityId, reason: null, fields: [], at: new Date() });
  }

  /** Writers take whatever has queued up and commit it as one batch. */
  private drain(): void {
    while (this.writers < this.maxWriters && this.pending.length > 0) {
      // Shared among the idle writers (PostgreSQL): several smaller commits in flight beat one large one.
      const batch = this.pending.splice(0, Math.min(MAX_BATCH, Math.ceil(this.pending.length / (this.maxWriters - this.writers))));
      this.writers++;
      void this.store
        .recordInbox(batch.map((p) => p.write))
        .then(
          (results) => batch.forEach((p, i) => { const r = results[i]; if ('refused' in r) p.reject(r.refused); else this.settled(p, r); }),
          (err: unknown) => batch.forEach((p) => p.reject(err)),
        )
        .finally(() => {
          this.writers--;
          this.drain();
        });
    }
  }
}
