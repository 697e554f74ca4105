import { DEFAULT_ROUTE_PREFIX } from '../fulfilment.options.js';
import { webhookPath } from '../webhooks/webhook-routes.js';

export interface WebhookTestClientOptions {
  /** Base URL of the app under test, e.g. http://127.0.0.1:43121 */
  baseUrl: string;
  /** The webhook secret the module was configured with (any of the rotation pair). */
  secret: string;
  /** Default `fulfilment`. */
  routePrefix?: string;
}

export interface WebhookTestResponse {
  status: number;
  body: unknown;
}

/**
 * Posts CaryRx events to the module's webhook routes with the right token, as CaryRx would, so
 * hosts can test their own handlers of the module's events without provider credentials.
 *
 *   const hooks = createWebhookTestClient({ baseUrl, secret });
 *   await hooks.caryrxOrderEvent({ id: 'wbbubgc6s5', order_status: 'shipped', updated_at: new Date().toISOString() });
 */
export function createWebhookTestClient(options: WebhookTestClientOptions) {
  const prefix = options.routePrefix ?? DEFAULT_ROUTE_PREFIX;
  const post = async (subPath: string, body: unknown, token = options.secret): Promise<WebhookTestResponse> => {
    const url = `${options.baseUrl.replace(/\/+$/, '')}/${webhookPath(prefix, subPath)}?token=${encodeURIComponent(token)}`;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  };
  return {
    /** An order event (`order_status`, `updated_at`, …) as CaryRx posts it to the orders callback. */
    caryrxOrderEvent: (event: Record<string, unknown>, token?: string) => post('caryrx/orders', event, token),
    /** A prescription event as CaryRx posts it to the prescriptions callback. */
    caryrxPrescriptionEvent: (event: Record<string, unknown>, token?: string) => post('caryrx/prescriptions', event, token),
  };
}

export type WebhookTestClient = ReturnType<typeof createWebhookTestClient>;
