import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { RESOLVED_OPTIONS } from '../fulfilment.constants.js';
import type { ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import { OrderStore } from './order-store.js';

/**
 * Delivers domain events the outbox still holds undelivered: after start (a replica that died after
 * a commit left them) and every `events.redeliverIntervalMs` (a listener failed, another replica
 * died). OrderStore claims each row for one replica, so two never deliver the same row at once.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('Fulfilment:Events');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: OrderStore,
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedFulfilmentOptions,
  ) {}

  onApplicationBootstrap(): void {
    // The first pass waits one interval: the host's listeners (@OnEvent) are attached during
    // bootstrap too, and an event delivered before them would reach no one and count as delivered.
    this.timer = setInterval(() => void this.runOnce(), this.options.events.redeliverIntervalMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** After every module stopped its work (the sync's last tick included), before the host closes its DataSource. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.store.flushDeliveries();
  }

  /** One pass: claims and delivers batches until none is left. Never overlaps itself. */
  runOnce(): Promise<void> {
    this.running ??= this.drain().finally(() => (this.running = undefined));
    return this.running;
  }

  private async drain(): Promise<void> {
    try {
      let delivered = 0;
      let claimed: number;
      do {
        claimed = await this.store.redeliverPending();
        delivered += claimed;
      } while (claimed > 0);
      if (delivered > 0) this.logger.log(`delivered ${delivered} event(s) left undelivered`);
    } catch (err) {
      this.logger.warn(`redelivering events failed: ${(err as Error).message}`);
    }
  }
}
