import type { DataSource } from 'typeorm';
import { WebhookInboxEvent, type FulfilmentOrder } from 'nestjs-fulfilment';
import { seedOrder, type OrderRowOverrides } from '../support/seed-orders.js';

/** Values an attacker could get into provider statuses, ids, references and error texts. */
export const HOSTILE = {
  providerStatus: '<script>window.__pwned = 1</script>',
  hostReference: `"><img src=x onerror="window.__pwned=2">'`,
  providerOrderId: `cx-'"<b>\u202Egnp.exe`,
  trackingUrl: 'javascript:window.__pwned=3',
  lastError: '<iframe src="https://evil.example"></iframe>',
} as const;

/** Seeds an order with every hostile value in a column the console shows. */
export function seedHostileOrder(dataSource: DataSource): Promise<FulfilmentOrder> {
  return seedOrder(dataSource, {
    provider: 'caryrx',
    providerOrderId: HOSTILE.providerOrderId,
    hostReference: HOSTILE.hostReference,
    providerStatus: HOSTILE.providerStatus,
    trackingUrl: HOSTILE.trackingUrl,
    lastError: HOSTILE.lastError,
    status: 'accepted',
  });
}

/** A CaryRx order event stored `failed` (applying it threw), with the observation a replay applies. */
export async function seedFailedOrderEvent(
  dataSource: DataSource,
  providerOrderId: string,
  providerStatus = 'shipped',
  outcome: 'failed' | 'unmatched' = 'failed',
  providerTimestamp = new Date(Date.now() - 60_000),
): Promise<WebhookInboxEvent> {
  const row: WebhookInboxEvent = {
    dedupKey: `caryrx.order:${providerOrderId}:${providerTimestamp.toISOString()}:${providerStatus}`,
    provider: 'caryrx',
    topic: 'caryrx.order',
    entityId: providerOrderId,
    providerStatus,
    providerTimestamp,
    payload: JSON.stringify({ providerStatus, providerTimestamp: providerTimestamp.toISOString(), trackingNumber: '1Z999' }),
    outcome,
    error: outcome === 'failed' ? 'QueryFailedError: could not serialize access' : null,
    receivedAt: new Date(),
    processedAt: new Date(),
  };
  await dataSource.manager.insert(WebhookInboxEvent, row);
  return row;
}

export { seedOrder, type OrderRowOverrides };

/** The CSRF token of the first form on a console page. */
export function csrfOf(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no form with a CSRF token on the page');
  return token;
}
