import { Injectable } from '@nestjs/common';
import type { ProviderName } from '../http/provider-errors.js';

/** A webhook the module answered without storing: a duplicate (2xx) or a rejection (4xx). */
export interface UnstoredWebhook {
  kind: 'duplicate' | 'rejected';
  provider: ProviderName;
  topic: string;
  /** The provider object's id (duplicates; a rejected body was not read or not valid). */
  entityId: string | null;
  /** Why it was rejected (`unauthorized`, `invalid_body`, …) and which fields were wrong. */
  reason: string | null;
  fields: string[];
  at: Date;
}

/** How many of each kind this replica keeps. */
const KEPT = 50;

/**
 * What never reaches the inbox table, kept in memory per replica for the ops console: the last
 * duplicates and rejections, and how many of each since start. A duplicate is not stored twice
 * (its first copy is in the inbox) and a rejected request is not stored at all (it may be anyone's).
 */
@Injectable()
export class WebhookActivity {
  private readonly kept: Record<UnstoredWebhook['kind'], UnstoredWebhook[]> = { duplicate: [], rejected: [] };
  readonly counts: Record<UnstoredWebhook['kind'], number> = { duplicate: 0, rejected: 0 };

  record(webhook: UnstoredWebhook): void {
    const list = this.kept[webhook.kind];
    list.unshift(webhook);
    list.length = Math.min(list.length, KEPT);
    this.counts[webhook.kind]++;
  }

  /** The last ones of a kind, newest first. */
  recent(kind: UnstoredWebhook['kind']): UnstoredWebhook[] {
    return [...this.kept[kind]];
  }
}
