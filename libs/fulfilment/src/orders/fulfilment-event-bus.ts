import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';

interface Emitter {
  emit(event: string, ...values: unknown[]): boolean;
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

  emit(name: string, payload: object): void {
    if (!this.emitter) return;
    try {
      this.emitter.emit(name, payload);
    } catch (err) {
      this.logger.error(`a listener of ${name} threw: ${(err as Error).message}`);
    }
  }
}
