import { Injectable, Logger } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { FulfilmentEvents, type OrderStatusChangedEvent } from 'nestjs-fulfilment';

/** Logs every order status change: ids and statuses only, as the event carries no patient data. */
@Injectable()
export class OrderEventsListener {
  private readonly logger = new Logger('OrderEvents');

  @OnEvent(FulfilmentEvents.OrderStatusChanged)
  onStatusChanged(event: OrderStatusChangedEvent): void {
    this.logger.log(
      `order ${event.orderId} (${event.provider}${event.providerOrderId ? ` ${event.providerOrderId}` : ''}): ` +
        `${event.previousStatus ?? '-'} → ${event.status} [${event.providerStatus ?? '-'}] via ${event.source}`,
    );
  }
}
