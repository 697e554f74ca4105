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
 * ScriptDrop: `batchSize` ids per `GET /api/v1/orders?ids[]=…`,
 * at most `concurrency` of those in flight across the whole replica. After a 429 the remaining
 * chunks are not requested and the 429 is thrown.
 */
export class ScriptDropStatusReader implements ProviderStatusReader {
  readonly provider = 'scriptdrop' as const;
  private readonly logger = new Logger('Fulfilment:Sync');
  private readonly limit: ConcurrencyLimit;

  constructor(
    private readonly scriptdrop: Pick<ScriptDropService, 'getOrders'>,
    private readonly batchSize: number,
    concurrency: number,
  ) {
    this.limit = createConcurrencyLimit(concurrency);
  }

  async read(ids: string[], context?: StatusReadContext): Promise<Map<string, OrderObservation>> {
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += this.batchSize) chunks.push(ids.slice(i, i + this.batchSize));
    const found = new Map<string, OrderObservation>();
    let rateLimited: ProviderRateLimitError | undefined;
    let failure: unknown;
    await Promise.all(
      chunks.map((chunk) =>
        this.limit(async () => {
          if (rateLimited) return;
          context?.onRequest();
          try {
            for (const order of await this.scriptdrop.getOrders(chunk)) found.set(order.id, scriptDropObservation(order));
          } catch (err) {
            if (err instanceof ProviderRateLimitError) rateLimited ??= err;
            else failure ??= err;
          }
        }),
      ),
    );
    if (rateLimited) throw rateLimited;
    // One failed chunk fails only its own ids (absent from the map), unless every chunk failed.
    if (failure && found.size === 0) throw failure;
    if (failure) this.logger.warn(`ScriptDrop: a status read failed (${(failure as Error).message}); its orders back off`);
    return found;
  }
}

/**
 * CaryRx has no multi-get: `GET /v1/orders/:id` per order, at most `concurrency` at once across
 * the whole replica. After a 429 the remaining ids of the batch are not requested.
 */
export class CaryRxStatusReader implements ProviderStatusReader {
  readonly provider = 'caryrx' as const;
  private readonly logger = new Logger('Fulfilment:Sync');
  private readonly limit: ConcurrencyLimit;

  constructor(
    private readonly caryrx: Pick<CaryRxService, 'getOrder'>,
    concurrency: number,
  ) {
    this.limit = createConcurrencyLimit(concurrency);
  }

  async read(ids: string[], context?: StatusReadContext): Promise<Map<string, OrderObservation>> {
    const found = new Map<string, OrderObservation>();
    let rateLimited: ProviderRateLimitError | undefined;
    let failures = 0;
    let firstFailure: string | undefined;
    await Promise.all(
      ids.map((id) =>
        this.limit(async () => {
          if (rateLimited) return;
          context?.onRequest();
          try {
            const observation = caryRxObservation(await this.caryrx.getOrder(id));
            if (!observation) throw new Error('the answer has no order_status');
            found.set(id, observation);
          } catch (err) {
            if (err instanceof ProviderRateLimitError) rateLimited ??= err;
            else {
              failures++;
              firstFailure ??= (err as Error).message;
            }
          }
        }),
      ),
    );
    if (rateLimited) throw rateLimited;
    if (failures > 0) this.logger.warn(`CaryRx: ${failures} of ${ids.length} order reads failed (first: ${firstFailure})`);
    return found;
  }
}
