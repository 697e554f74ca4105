import { Inject, Injectable } from '@nestjs/common';
import { PROVIDER_ENDPOINTS, RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import { FulfilmentConfigurationError } from '../orders/fulfilment-errors.js';
import { OrderStore } from '../orders/order-store.js';
import type { ProviderEndpoints } from '../provider-endpoints.js';
import { syncedProviders } from '../metrics/metrics.providers.js';

export interface FulfilmentHealthOptions {
  /**
   * The sync is behind (`down`) when an order has been due for a read longer than this. Default:
   * `sync.leaseMs` + 4 × `sync.intervalMs` (a crashed replica's leases expire, and a few ticks pass).
   */
  maxSyncLagMs?: number;
  /** A webhook registration whose test payload has not arrived after this long is `down`. Default 60 000. */
  registrationGraceMs?: number;
}

/** What the indicator reports for `key`: terminus's HealthIndicatorResult shape, without needing its types. */
export type FulfilmentHealthResult = Record<string, { status: 'up' | 'down'; [detail: string]: unknown }>;

/** The webhook registrations' state, by `provider.topic`. */
type RegistrationState = 'confirmed' | 'awaiting_test_payload' | 'unconfirmed';

interface HealthIndicatorSessionLike {
  up(data: Record<string, unknown>): FulfilmentHealthResult;
  down(data: Record<string, unknown>): FulfilmentHealthResult;
}
interface HealthIndicatorServiceLike {
  check(key: string): HealthIndicatorSessionLike;
}

const DEFAULT_REGISTRATION_GRACE_MS = 60_000;

/**
 * A `@nestjs/terminus` health indicator (terminus 11 and 12, through their HealthIndicatorService)
 * that a host adds to its own health check:
 *
 * ```ts
 * check() { return this.health.check([() => this.fulfilment.isHealthy('fulfilment')]); }
 * ```
 *
 * `down` when the database does not answer, when the sync is behind (an order due for a read
 * longer than `maxSyncLagMs`), or when a webhook registration is still unconfirmed after
 * `registrationGraceMs`. The details carry no id, URL, secret or patient value.
 */
@Injectable()
export class FulfilmentHealthIndicator {
  private indicators: HealthIndicatorServiceLike | undefined;

  constructor(
    private readonly store: OrderStore,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedFulfilmentOptions,
    @Inject(PROVIDER_ENDPOINTS) private readonly endpoints: ProviderEndpoints,
  ) {}

  async isHealthy(key = 'fulfilment', options: FulfilmentHealthOptions = {}): Promise<FulfilmentHealthResult> {
    const session = (await this.terminus()).check(key);
    const { intervalMs, leaseMs } = this.options.sync;
    const maxSyncLagMs = options.maxSyncLagMs ?? leaseMs + 4 * intervalMs;
    const graceMs = options.registrationGraceMs ?? DEFAULT_REGISTRATION_GRACE_MS;
    try {
      await this.store.ping();
    } catch {
      // The driver's message is not repeated: it can name the database's host and user.
      return session.down({ database: 'down', message: 'the database did not answer' });
    }

    const now = new Date();
    const providers = syncedProviders(this.endpoints);
    const oldestDue = await this.store.oldestDueSyncAt(providers, now);
    const syncLagSeconds = oldestDue ? Math.max(0, Math.round((now.getTime() - oldestDue.getTime()) / 1000)) : 0;
    const webhooks: Record<string, RegistrationState> = {};
    for (const provider of providers) {
      for (const r of await this.store.registrations(provider)) {
        webhooks[`${r.provider}.${r.topic}`] = r.confirmedAt
          ? 'confirmed'
          : now.getTime() - r.registeredAt.getTime() <= graceMs
            ? 'awaiting_test_payload'
            : 'unconfirmed';
      }
    }

    const problems: string[] = [];
    if (syncLagSeconds * 1000 > maxSyncLagMs) problems.push(`the status sync is behind: an order has been due for ${syncLagSeconds} s (limit ${Math.round(maxSyncLagMs / 1000)} s)`);
    const unconfirmed = Object.keys(webhooks).filter((name) => webhooks[name] === 'unconfirmed');
    if (unconfirmed.length > 0) problems.push(`webhook registrations without their test payload: ${unconfirmed.join(', ')}`);

    const details = { database: 'up', syncLagSeconds, syncMaxLagSeconds: Math.round(maxSyncLagMs / 1000), webhooks };
    return problems.length === 0 ? session.up(details) : session.down({ ...details, message: problems.join('; ') });
  }

  /** terminus's HealthIndicatorService, loaded on first use: the package is an optional peer. */
  private async terminus(): Promise<HealthIndicatorServiceLike> {
    if (this.indicators) return this.indicators;
    const terminus = await import('@nestjs/terminus').catch(() => undefined);
    if (!terminus) throw new FulfilmentConfigurationError('FulfilmentHealthIndicator needs @nestjs/terminus (npm install @nestjs/terminus)');
    return (this.indicators = new terminus.HealthIndicatorService() as unknown as HealthIndicatorServiceLike);
  }
}
