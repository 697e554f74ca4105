import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

interface Emitter {
  emit(event: string, ...values: unknown[]): boolean;
  /** EventEmitter2: calls the listeners now and resolves once the promises they return settle. */
  emitAsync?(event: string, ...values: unknown[]): Promise<unknown[]> | false;
}

/**
 * Where the module publishes its domain events: the host's EventEmitter2, when the host has
 * `@nestjs/event-emitter` installed and `EventEmitterModule.forRoot()` imported. The package is an
 * optional peer, so it is looked up at start-up rather than imported: a host without it loses the
 * events and nothing else. A listener that throws never reaches the webhook call or the sync.
 */
@Injectable()
export class FulfilmentEventBus implements OnModuleInit {
  private readonly logger = new Logger('Fulfilment:Events');
  private emitter: Emitter | undefined;

  constructor(private readonly moduleRef: ModuleRef) {}

  /** A bus over an emitter already at hand (services built without Nest, as in unit tests). */
  static over(emitter: Emitter): FulfilmentEventBus {
    const bus = new FulfilmentEventBus(undefined as unknown as ModuleRef);
    bus.emitter = emitter;
    return bus;
  }

  async onModuleInit(): Promise<void> {
    const eventEmitter = await import('@nestjs/event-emitter').catch(() => undefined);
    if (!eventEmitter) return;
    try {
      this.emitter = this.moduleRef.get<Emitter>(eventEmitter.EventEmitter2, { strict: false });
    } catch {
      // Installed but EventEmitterModule.forRoot() not imported: no events, as without the package.
    }
  }

  /** Whether anyone can receive events: without an emitter the outbox is not written at all. */
  get enabled(): boolean {
    return this.emitter !== undefined;
  }

  /**
   * Hands an event of the outbox to the listeners: they run now (in the caller's turn), and the
   * promise settles once the promises they returned settled. Rejects when a listener threw or
   * rejected, so the event stays undelivered and is delivered again (at least once).
   */
  async deliver(name: string, payload: object): Promise<void> {
    if (!this.emitter) return;
    if (!this.emitter.emitAsync) {
      this.emitter.emit(name, payload);
      return;
    }
    await (this.emitter.emitAsync(name, payload) || undefined);
  }

  /** Publishes an event that is not kept in the outbox (a rejected webhook changes no state). */
  emit(name: string, payload: object): void {
    if (!this.emitter) return;
    try {
      this.emitter.emit(name, payload);
    } catch (err) {
      this.logger.error(`a listener of ${name} threw: ${(err as Error).message}`);
    }
  }
}
