import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions, ResolvedOpsOptions } from '../fulfilment.options.js';
import { FulfilmentService } from '../fulfilment.service.js';
import type { ProviderName } from '../http/provider-errors.js';
import type { FulfilmentOrder } from '../orders/entities/fulfilment-order.entity.js';
import { INBOX_OUTCOMES, type InboxOutcome, type WebhookInboxEvent } from '../orders/entities/webhook-inbox-event.entity.js';
import { FULFILMENT_STATUSES, isTerminal, type FulfilmentStatus } from '../orders/order-state-machine.js';
import { OrderStore, type InboxCursor, type OrderListCursor } from '../orders/order-store.js';
import { CARYRX_ORDER_TOPIC } from '../caryrx/caryrx-webhooks.service.js';
import { StatusSyncService } from '../sync/status-sync.service.js';
import { WebhookActivity, type UnstoredWebhook } from '../webhooks/webhook-activity.js';
import { secretFingerprint } from '../webhooks/webhook-secrets.js';
import { OPS_OPTIONS } from './ops-access.guard.js';

const PROVIDERS: ProviderName[] = ['caryrx', 'scriptdrop'];
/** Each provider's order-event topics (ScriptDrop sends no webhooks). */
const ORDER_TOPICS: Record<ProviderName, string[]> = { caryrx: [CARYRX_ORDER_TOPIC], scriptdrop: [] };
const ALL_ORDER_TOPICS = Object.values(ORDER_TOPICS).flat();
/** Inbox events shown on an order's page. */
const ORDER_EVENTS_SHOWN = 50;
/** Due orders counted at most, and leases looked for among the longest-due this many: the sync page reads no more rows. */
const BACKLOG_CAP = 1_000;
/** Longest search text (the longest column it is compared with). */
const MAX_SEARCH = 255;

/** Tabs of the webhooks page: stored outcomes, then what is kept in memory only. */
const STORED_TABS: InboxOutcome[] = ['failed', 'unmatched', 'stale', 'unchanged', 'applied', 'test'];
const UNSTORED_TABS: Array<UnstoredWebhook['kind']> = ['duplicate', 'rejected'];
const TAB_HINTS: Record<string, string> = {
  failed: 'Stored, but applying them threw. Replay applies the stored event again.',
  unmatched: 'Order events about an order this module does not hold (yet). Replay applies them once the order exists.',
  stale: 'Older than what the order already showed: kept, not applied.',
  unchanged: 'Said nothing new about their order.',
  applied: 'Moved their order.',
  test: 'Registration test payloads.',
  duplicate: 'The same event delivered again: acknowledged, not stored twice. Kept in memory:',
  rejected: 'Refused before they were stored (wrong token, bad body, too large, wrong type). Kept in memory:',
};

/** What an action did, shown after its redirect. */
export const DONE_NOTICES = {
  refreshed: 'Read the order at its provider now.',
  cancelled: 'Cancelled at the provider.',
  linked: 'Linked to the provider\'s order and read it.',
  closed: 'Closed as not created.',
  replayed: 'Event replayed.',
} as const;
export type DoneNotice = keyof typeof DONE_NOTICES;

export type Query = Record<string, unknown>;
export interface Notice {
  kind: 'done' | 'error';
  text: string;
}

const when = (d: Date | null | undefined): string => (d ? `${d.toISOString().slice(0, 19).replace('T', ' ')}Z` : '');

function ago(d: Date, now: number): string {
  const minutes = Math.floor((now - d.getTime()) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${Math.floor(hours / 24)} days ago`;
}

const duration = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/** Opaque page cursors in links: base64url JSON of [time, key]. */
function encodeCursor(at: Date, key: string): string {
  return Buffer.from(JSON.stringify([at.toISOString(), key])).toString('base64url');
}

function decodeCursor(text: string): { at: Date; key: string } | undefined {
  try {
    const [at, key] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    const date = new Date(String(at));
    return typeof at === 'string' && typeof key === 'string' && !Number.isNaN(date.getTime()) ? { at: date, key } : undefined;
  } catch {
    return undefined;
  }
}

/** A link with a query string (empty values left out). */
function link(path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Only http(s) URLs become links: a provider's `javascript:` URL is shown as text. */
function safeHref(url: string | null): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** Status names are CSS class suffixes only when they are the module's own. */
const statusClass = (status: string): string => ((FULFILMENT_STATUSES as readonly string[]).includes(status) ? `s-${status}` : '');

/**
 * The console's pages as data for its templates, and its actions. Reads go through OrderStore's
 * indexed keyset reads (one statement per list, one page of rows at most); actions go through
 * FulfilmentService (history source `ops`, with the operator) and OrderStore.replayInbox.
 */
@Injectable()
export class OpsConsole {
  constructor(
    private readonly store: OrderStore,
    private readonly fulfilment: FulfilmentService,
    private readonly sync: StatusSyncService,
    private readonly activity: WebhookActivity,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedFulfilmentOptions,
    @Inject(OPS_OPTIONS) private readonly ops: ResolvedOpsOptions,
  ) {}

  // --- pages ---------------------------------------------------------------------------------

  /** The orders page; `problems` names each query parameter that was not understood (the page is then 400). */
  async ordersPage(base: string, query: Query): Promise<{ data: object; problems: string[] }> {
    const problems: string[] = [];
    const text = (name: string, max: number): string | undefined => {
      const value = query[name];
      if (value === undefined || value === '') return undefined;
      if (typeof value !== 'string' || value.length > max) {
        problems.push(`${name} must be one text of at most ${max} characters`);
        return undefined;
      }
      return value;
    };
    const oneOf = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
      const value = text(name, 64);
      if (value === undefined || (allowed as readonly string[]).includes(value)) return value as T | undefined;
      problems.push(`${name} must be one of ${allowed.join(', ')}`);
      return undefined;
    };
    const q = text('q', MAX_SEARCH)?.trim() || undefined;
    const provider = oneOf('provider', PROVIDERS);
    const status = oneOf('status', FULFILMENT_STATUSES);
    const stuck = text('stuck', 8) === '1';
    let minutes = this.ops.stuckAfterMinutes;
    const minutesText = text('minutes', 8);
    if (minutesText !== undefined) {
      const n = Number(minutesText);
      if (Number.isInteger(n) && n >= 1 && n <= 525_600) minutes = n;
      else problems.push('minutes must be a whole number from 1 to 525600');
    }
    const afterText = text('after', 512);
    const after = afterText === undefined ? undefined : decodeCursor(afterText);
    if (afterText !== undefined && !after) problems.push('after must be a cursor from a "next page" link');

    const now = Date.now();
    const { orders, next } = await this.store.listOrders({
      providers: PROVIDERS,
      provider,
      status,
      search: q,
      stuckBefore: stuck ? new Date(now - minutes * 60_000) : undefined,
      after: after && ({ at: after.at, id: after.key } satisfies OrderListCursor),
      limit: this.ops.pageSize,
    });
    const filters = { q: q ?? '', provider: provider ?? '', status: status ?? '', stuck: stuck ? '1' : undefined, minutes: String(minutes) };
    const filterQuery = { ...filters, minutes: stuck ? filters.minutes : undefined };
    return {
      problems,
      data: {
        filters,
        providers: PROVIDERS,
        statuses: FULFILMENT_STATUSES,
        orders: orders.map((o) => this.orderRow(base, o, now)),
        nextHref: next ? link(`${base}/orders`, { ...filterQuery, after: encodeCursor(next.at, next.id) }) : undefined,
        firstHref: after ? link(`${base}/orders`, filterQuery) : undefined,
      },
    };
  }

  /** One order's page; undefined when there is no such order. */
  async orderPage(base: string, orderId: string): Promise<object | undefined> {
    const order = await this.store.getOrder(orderId);
    if (!order) return undefined;
    const now = Date.now();
    const [history, events] = await Promise.all([
      this.store.history(order.id),
      order.providerOrderId ? this.store.inboxFor(ORDER_TOPICS[order.provider], order.providerOrderId, ORDER_EVENTS_SHOWN) : Promise.resolve([]),
    ]);
    const open = !isTerminal(order.status);
    return {
      order: {
        ...this.orderRow(base, order, now),
        serviceLevel: order.serviceLevel ?? '',
        trackingNumber: order.trackingNumber ?? '',
        trackingUrl: order.trackingUrl ?? '',
        trackingHref: safeHref(order.trackingUrl),
        eta: when(order.eta),
        lastSyncedAt: when(order.lastSyncedAt),
        nextSyncAt: when(order.nextSyncAt),
        lastError: order.lastError ?? '',
      },
      actions: {
        refresh: order.providerOrderId !== null,
        // The CaryRx API documents no cancellation.
        cancel: order.provider === 'scriptdrop' && open && order.providerOrderId !== null,
        resolve: order.status === 'unknown' && order.providerOrderId === null,
      },
      history: history.map((h) => ({
        occurredAt: when(h.createdAt),
        fromStatus: h.fromStatus ?? '(created)',
        toStatus: h.toStatus,
        statusClass: statusClass(h.toStatus),
        fromProviderStatus: h.fromProviderStatus ?? '–',
        toProviderStatus: h.toProviderStatus ?? '–',
        source: h.source,
        actor: h.actor ?? '',
        providerTimestamp: when(h.providerTimestamp),
      })),
      events: events.map((e) => this.eventRow(base, e, false)),
      eventsNote: ORDER_TOPICS[order.provider].length === 0 ? `${order.provider} sends no webhooks: the status sync reads its orders.` : 'No webhook event for this order.',
    };
  }

  /** The webhooks page for one tab (a stored outcome, or `duplicate` / `rejected`). */
  async webhooksPage(base: string, query: Query): Promise<{ data: object; problems: string[] }> {
    const problems: string[] = [];
    const tabs = [...STORED_TABS, ...UNSTORED_TABS] as string[];
    let tab = typeof query.outcome === 'string' && query.outcome !== '' ? query.outcome : 'failed';
    if (!tabs.includes(tab)) {
      problems.push(`outcome must be one of ${tabs.join(', ')}`);
      tab = 'failed';
    }
    const afterText = typeof query.after === 'string' && query.after !== '' ? query.after : undefined;
    const after = afterText === undefined ? undefined : decodeCursor(afterText);
    if (afterText !== undefined && !after) problems.push('after must be a cursor from an "older" link');
    const registrations = (await Promise.all(PROVIDERS.map((p) => this.store.registrations(p)))).flat();
    const common = {
      outcome: tab,
      tabHint: TAB_HINTS[tab],
      tabs: tabs.map((t) => ({ label: t, href: link(`${base}/webhooks`, { outcome: t }), current: t === tab })),
      registrations: registrations.map((r) => ({
        provider: r.provider,
        topic: r.topic,
        callbackUrl: r.callbackUrl,
        secretFingerprint: r.secretFingerprint,
        secretNote: this.secretNote(r.secretFingerprint),
        registeredAt: when(r.registeredAt),
        confirmedAt: when(r.confirmedAt),
      })),
    };
    if (UNSTORED_TABS.includes(tab as UnstoredWebhook['kind'])) {
      const kind = tab as UnstoredWebhook['kind'];
      return {
        problems,
        data: {
          ...common,
          stored: false,
          unstoredCount: this.activity.counts[kind],
          unstored: this.activity.recent(kind).map((w) => ({ at: when(w.at), topic: w.topic, entityId: w.entityId ?? '', reason: w.reason ?? '', fields: w.fields.join(', ') })),
        },
      };
    }
    const outcome = tab as InboxOutcome;
    const { events, next } = await this.store.listInbox({ outcome, after: after && ({ at: after.at, dedupKey: after.key } satisfies InboxCursor), limit: this.ops.pageSize });
    return {
      problems,
      data: {
        ...common,
        stored: true,
        events: events.map((e) => this.eventRow(base, e, true)),
        nextHref: next ? link(`${base}/webhooks`, { outcome, after: encodeCursor(next.at, next.dedupKey) }) : undefined,
        firstHref: after ? link(`${base}/webhooks`, { outcome }) : undefined,
      },
    };
  }

  async syncPage(): Promise<object> {
    const now = new Date();
    const { intervalMs, leaseMs, enabled } = this.options.sync;
    // A tick should have read an order due this long ago, even one lease late.
    const overdueMs = intervalMs + leaseMs;
    const backlog = await this.store.syncBacklog(now, new Date(now.getTime() - overdueMs), BACKLOG_CAP);
    const counted = (n: number) => (backlog.capped && n >= BACKLOG_CAP ? `${BACKLOG_CAP.toLocaleString('en')}+` : n.toLocaleString('en'));
    return {
      scheduled: enabled ? `every ${duration(intervalMs)}, leases of ${duration(leaseMs)}` : 'off (sync.enabled is false): ticks run only through StatusSyncService.runOnce()',
      due: counted(backlog.due),
      overdue: counted(backlog.overdue),
      overdueAfter: duration(overdueMs),
      instanceId: this.sync.instanceId,
      paused: this.sync.pausedProviders(now.getTime()).map((p) => ({ provider: p.provider, until: when(p.until), left: `${Math.ceil((p.until.getTime() - now.getTime()) / 1000)} s left` })),
      leases: backlog.leases.map((l) => ({ owner: l.owner, orders: l.orders, until: when(l.until), self: l.owner === this.sync.instanceId })),
      ticks: this.sync.recentTicks().map((t) => ({
        startedAt: when(t.startedAt),
        took: duration(t.durationMs),
        claimed: t.claimed,
        changed: t.changed,
        failed: t.failed,
        error: t.error ?? '',
      })),
    };
  }

  // --- actions (each recorded with source `ops` and the operator) ------------------------------

  async refresh(orderId: string, actor: string): Promise<void> {
    await this.fulfilment.refreshOrder(orderId, { source: 'ops', actor });
  }

  async cancel(orderId: string, actor: string): Promise<void> {
    await this.fulfilment.cancelOrder(orderId, { source: 'ops', actor });
  }

  async resolve(orderId: string, form: Query, actor: string): Promise<DoneNotice> {
    const providerOrderId = typeof form.providerOrderId === 'string' ? form.providerOrderId.trim() : '';
    if (form.notCreated === '1') {
      await this.fulfilment.resolveUnknown(orderId, { notCreated: true }, { source: 'ops', actor });
      return 'closed';
    }
    await this.fulfilment.resolveUnknown(orderId, { providerOrderId }, { source: 'ops', actor });
    return 'linked';
  }

  /** Replays a failed or unmatched order event: its new outcome, and its order when it has one. */
  async replay(dedupKey: string, actor: string): Promise<{ outcome?: InboxOutcome; from?: InboxOutcome; orderId?: string; problem?: string }> {
    const { event, conflict, orderId } = await this.store.replayInbox(dedupKey, ALL_ORDER_TOPICS, actor);
    if (!event) return { problem: 'no such webhook event' };
    if (conflict) return { problem: conflict, from: event.outcome ?? undefined };
    return { outcome: event.outcome ?? undefined, orderId };
  }

  // --- rows ----------------------------------------------------------------------------------

  private orderRow(base: string, o: FulfilmentOrder, now: number) {
    return {
      id: o.id,
      href: `${base}/orders/${encodeURIComponent(o.id)}`,
      provider: o.provider,
      providerOrderId: o.providerOrderId ?? '–',
      hostReference: o.hostReference ?? '',
      status: o.status as FulfilmentStatus,
      statusClass: statusClass(o.status),
      providerStatus: o.providerStatus ?? '',
      createdAt: when(o.createdAt),
      updatedAt: when(o.updatedAt),
      updatedAgo: ago(o.updatedAt, now),
    };
  }

  private eventRow(base: string, e: WebhookInboxEvent, linkToOrder: boolean) {
    return {
      dedupKey: e.dedupKey,
      receivedAt: when(e.receivedAt),
      topic: e.topic,
      entityId: e.entityId,
      orderSearchHref: linkToOrder && ALL_ORDER_TOPICS.includes(e.topic) ? link(`${base}/orders`, { q: e.entityId }) : undefined,
      providerStatus: e.providerStatus ?? '',
      providerTimestamp: when(e.providerTimestamp),
      outcome: e.outcome ?? '',
      error: e.error ?? '',
      replayable: (e.outcome === 'failed' || e.outcome === 'unmatched') && ALL_ORDER_TOPICS.includes(e.topic),
    };
  }

  /** Which configured secret a registration carries, by fingerprint (never the secret). */
  private secretNote(fingerprint: string): string {
    const index = this.options.webhooks.secrets.findIndex((s) => secretFingerprint(s) === fingerprint);
    if (index === 0) return 'current secret';
    if (index === 1) return 'previous secret (rotation): register again';
    return 'a secret no longer configured: register again';
  }
}

/** Outcomes a replay may leave (for the notice after its redirect). */
export const REPLAY_OUTCOMES: readonly string[] = INBOX_OUTCOMES;
