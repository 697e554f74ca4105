import { Controller, Delete, Get, Param, ParseUUIDPipe } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiNotFoundResponse,
  ApiConflictResponse,
  ApiTags,
  ApiProperty,
  ApiPropertyOptional,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { FulfilmentService, FulfilmentValidationError, type FulfilmentOrderHistoryEntry, type FulfilmentOrderView } from 'nestjs-fulfilment';

export class StatusChangeView {
  @ApiPropertyOptional({ nullable: true }) from: string | null;
  @ApiProperty() to: string;
  @ApiPropertyOptional({ nullable: true }) providerStatus: string | null;
  @ApiProperty({ enum: ['create', 'webhook', 'sync', 'api'] }) source: string;
  @ApiProperty() at: string;
}

export class OrderView {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['caryrx', 'scriptdrop'] }) provider: string;
  @ApiPropertyOptional({ nullable: true }) providerOrderId: string | null;
  @ApiPropertyOptional({ nullable: true }) reference: string | null;
  @ApiProperty({ description: 'normalised status' }) status: string;
  @ApiPropertyOptional({ nullable: true, description: "the provider's own status" }) providerStatus: string | null;
  @ApiPropertyOptional({ nullable: true }) serviceLevel: string | null;
  @ApiPropertyOptional({ nullable: true }) trackingUrl: string | null;
  @ApiPropertyOptional({ nullable: true }) eta: string | null;
  @ApiProperty({ type: [StatusChangeView] }) history: StatusChangeView[];
}

/** The host's own answer shape, built from the module's view types. */
export function orderView(order: FulfilmentOrderView, history: FulfilmentOrderHistoryEntry[]): OrderView {
  return {
    id: order.id,
    provider: order.provider,
    providerOrderId: order.providerOrderId,
    reference: order.hostReference,
    status: order.status,
    providerStatus: order.providerStatus,
    serviceLevel: order.serviceLevel,
    trackingUrl: order.trackingUrl,
    eta: order.eta?.toISOString() ?? null,
    history: history.map((h) => ({
      from: h.fromStatus,
      to: h.toStatus,
      providerStatus: h.toProviderStatus,
      source: h.source,
      at: h.occurredAt.toISOString(),
    })),
  };
}

/** The order id in the path, refused in the same envelope as every other bad field. */
const orderIdPipe = (operation: string) =>
  new ParseUUIDPipe({ exceptionFactory: () => new FulfilmentValidationError(operation, [{ path: 'id', message: 'must be a UUID' }]) });

@ApiTags('orders')
@Controller('orders')
export class OrdersController {
  constructor(private readonly fulfilment: FulfilmentService) {}

  @Get(':id')
  @ApiOkResponse({ type: OrderView, description: 'status, provider status and history' })
  @ApiNotFoundResponse()
  async get(@Param('id', orderIdPipe('read order')) id: string): Promise<OrderView> {
    const [order, history] = await Promise.all([this.fulfilment.getOrder(id), this.fulfilment.getOrderHistory(id)]);
    return orderView(order, history);
  }

  @Delete(':id')
  @ApiOkResponse({ type: OrderView, description: 'the order after cancellation' })
  @ApiConflictResponse({ description: 'the order is already terminal (`order_state_conflict`, nothing sent)' })
  @ApiUnprocessableEntityResponse({
    description: 'CaryRx orders cannot be cancelled (`unsupported_operation`), or ScriptDrop refused (`provider_validation`, e.g. "Order is not in a cancellable status")',
  })
  async cancel(@Param('id', orderIdPipe('cancel order')) id: string): Promise<OrderView> {
    const order = await this.fulfilment.cancelOrder(id);
    return orderView(order, await this.fulfilment.getOrderHistory(id));
  }
}
