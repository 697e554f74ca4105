import { Logger } from '@nestjs/common';
import { ProviderRateLimitError, type ProviderName } from '../http/provider-errors.js';
import type { OrderObservation } from '../orders/order-state-machine.js';
import type { CaryRxService } from '../caryrx/caryrx.service.js';
import { caryRxObservation } from '../caryrx/caryrx-observation.js';
import type { ScriptDropService } from '../scriptdrop/scriptdrop.service.js';
import { scriptDropObservation } from '../scriptdrop/scriptdrop-observation.js';
import { createConcurrencyLimit, type ConcurrencyLimit } from './concurrency-limit.js';

/**
 * How the status sync reads one provider. The only provider-specific part of the sync: each reader
 * calls its provider's API service and turns the answers into observations with that provider's
 * one mapping; everything else (leases, schedule, the state machine) is shared.
 */
export interface ProviderStatusReader {
  readonly provider: ProviderName;
  /**
   * The current status of each id the provider answered for. An id missing from the map counts as
   * a failed read of that order (it backs off). A ProviderRateLimitError pauses the provider;
   * any other error fails the whole batch.
   */
  read(ids: string[], context?: StatusReadContext): Promise<Map<string, OrderObservation>>;
}

export interface StatusReadContext {
  /** Called once per HTTP request the reader makes (the tick report counts them). */
  onRequest(): void;
}

/** The readers of the configured providers (a provider without an HTTP client has none). */
export const PROVIDER_STATUS_READERS = Symbol('FULFILMENT_PROVIDER_STATUS_READERS');

/**
 * Settles a provider's orders whose create outcome is unknown, where the provider documents a way
 * to find them (CaryRx: the patient's orders). Each tick runs it for orders due for another look.
 */
export interface UnknownOrderReconciler {
  readonly provider: ProviderName;
  /** Returns how many orders it settled (linked, or closed as not created). */
  reconcileDue(owner: string): Promise<number>;
}

export const UNKNOWN_ORDER_RECONCILERS = Symbol('FULFILMENT_UNKNOWN_ORDER_RECONCILERS');

/**
 * The one way both providers are read: the ids in requests of `perRequest` ids, at most
 * `concurrency` requests in flight across the whole replica. After a 429 the remaining requests
 * are not made and the 429 is thrown. A failed request fails only its own ids (absent from the
 * map), unless every request failed: then its error fails the whole batch.
 */
abstract class BatchedStatusReader implements ProviderStatusReader {
  abstract readonly provider: ProviderName;
  private readonly logger = new Logger('Fulfilment:Sync');
  private readonly limit: ConcurrencyLimit;

  constructor(
    private readonly perRequest: number,
    concurrency: number,
  ) {
    this.limit = createConcurrencyLimit(concurrency);
  }

  /** One request: the observations of these ids that the provider answered for. */
  protected abstract fetch(ids: string[]): Promise<Array<[string, OrderObservation]>>;

  async read(ids: string[], context?: StatusReadContext): Promise<Map<string, OrderObservation>> {
    const requests: string[][] = [];
    for (let i = 0; i < ids.length; i += this.perRequest) requests.push(ids.slice(i, i + this.perRequest));
    const found = new Map<string, OrderObservation>();
    let rateLimited: ProviderRateLimitError | undefined;
    let failure: Error | undefined;
    let failed = 0;
    await Promise.all(
      requests.map((chunk) =>
        this.limit(async () => {
          if (rateLimited) return;
          context?.onRequest();
          try {
            for (const [id, observation] of await this.fetch(chunk)) found.set(id, observation);
          } catch (err) {
            if (err instanceof ProviderRateLimitError) rateLimited ??= err;
            else {
              failed++;
              failure ??= err as Error;
            }
          }
        }),
      ),
    );
    if (rateLimited) throw rateLimited;
    if (failure && failed === requests.length) throw failure;
    if (failure) this.logger.warn(`${this.provider}: ${failed} of ${requests.length} status reads failed (first: ${failure.message}); their orders back off`);
    return found;
  }
}

/** ScriptDrop: `batchSize` ids per `GET /api/v1/orders?ids[]=…`. */
export class ScriptDropStatusReader extends BatchedStatusReader {
  readonly provider = 'scriptdrop' as const;

  constructor(
    private readonly scriptdrop: Pick<ScriptDropService, 'getOrders'>,
    batchSize: number,
    concurrency: number,
  ) {
    super(batchSize, concurrency);
  }

  protected async fetch(ids: string[]): Promise<Array<[string, OrderObservation]>> {
    return (await this.scriptdrop.getOrders(ids)).map((order) => [order.id, scriptDropObservation(order)]);
  }
}

/** CaryRx has no multi-get: `GET /v1/orders/:id` per order. */
export class CaryRxStatusReader extends BatchedStatusReader {
  readonly provider = 'caryrx' as const;

  constructor(
    private readonly caryrx: Pick<CaryRxService, 'getOrder'>,
    concurrency: number,
  ) {
    super(1, concurrency);
  }

  protected async fetch([id]: string[]): Promise<Array<[string, OrderObservation]>> {
    const observation = caryRxObservation(await this.caryrx.getOrder(id));
    if (!observation) throw new Error('the answer has no order_status');
    return [[id, observation]];
  }
}
