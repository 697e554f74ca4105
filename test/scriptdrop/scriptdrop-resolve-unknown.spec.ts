import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { FulfilmentEvents, FulfilmentService, FulfilmentUnsupportedOperationError, FulfilmentValidationError, OrderOutcomeUnknownError, OrderStateError, type OrderStatusChangedEvent } from 'nestjs-fulfilment';
import { SCRIPTDROP_DOC_INPUT } from '../fixtures/scriptdrop-examples.js';
import { startScriptDrop, type ScriptDropTestContext } from './support.js';

const withoutOwnReference = () => {
  const { externalReferenceNumber: _own, ...order } = SCRIPTDROP_DOC_INPUT.sameday();
  return order;
};

/**
 * ScriptDrop documents no search, so an order whose create outcome is unknown is resolved by an
 * operator who looked it up: linked to the id found, or closed as not created.
 */
describe('ScriptDrop: an operator resolves an unknown order', () => {
  let ctx: ScriptDropTestContext;
  let fulfilment: FulfilmentService;

  beforeAll(async () => {
    ctx = await startScriptDrop();
    fulfilment = ctx.t.app.get(FulfilmentService);
  });
  afterAll(async () => {
    await ctx?.close();
  });

  /** A create that ScriptDrop acted on but whose answer was lost: `unknown` locally, the order exists there. */
  async function lostCreate(key: string): Promise<{ orderId: string; remoteId: string | undefined }> {
    ctx.sim.addFault({ method: 'POST', path: '/api/v1/orders', kind: 'drop-response', times: 1 });
    const error = await ctx.flow.createDelivery({ idempotencyKey: key, order: withoutOwnReference() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrderOutcomeUnknownError);
    const remoteId = [...ctx.sim.orders.values()].find((o) => o.externalReferenceNumber === key)?.id;
    return { orderId: (error as OrderOutcomeUnknownError).orderId, remoteId };
  }

  const changes = (orderId: string) =>
    ctx.t.events.filter((e) => e.name === FulfilmentEvents.OrderStatusChanged).map((e) => e.payload as OrderStatusChangedEvent).filter((e) => e.orderId === orderId);

  it('linked to the id the operator found: read at once, its true status recorded with history and event', async () => {
    const { orderId, remoteId } = await lostCreate('lost-link');
    expect(remoteId).toBeDefined();
    const view = await fulfilment.resolveUnknown(orderId, { providerOrderId: remoteId! });
    expect(view).toMatchObject({ id: orderId, providerOrderId: remoteId, status: 'accepted', providerStatus: 'new' });
    const history = await fulfilment.getOrderHistory(orderId);
    expect(history.map((h) => `${h.fromStatus ?? '-'}→${h.toStatus} via ${h.source}`)).toEqual(['-→created via create', 'created→unknown via create', 'unknown→accepted via api']);
    expect(changes(orderId).map((e) => e.status)).toEqual(['created', 'unknown', 'accepted']);
    // Resolved once: a second resolution is refused and changes nothing.
    await expect(fulfilment.resolveUnknown(orderId, { notCreated: true })).rejects.toBeInstanceOf(OrderStateError);
    expect((await fulfilment.getOrder(orderId)).status).toBe('accepted');
  });

  it('has no automatic reconciliation (ScriptDrop documents no search): reconcileUnknown says so and changes nothing', async () => {
    const { orderId } = await lostCreate('lost-no-search');
    await expect(fulfilment.reconcileUnknown(orderId)).rejects.toBeInstanceOf(FulfilmentUnsupportedOperationError);
    expect((await fulfilment.getOrder(orderId)).status).toBe('unknown');
  });

  it('closed as not created: terminal, with its history row and event, never synced', async () => {
    const { orderId } = await lostCreate('lost-close');
    const view = await fulfilment.resolveUnknown(orderId, { notCreated: true });
    expect(view).toMatchObject({ id: orderId, status: 'not_created', providerOrderId: null });
    const history = await fulfilment.getOrderHistory(orderId);
    expect(history.at(-1)).toMatchObject({ fromStatus: 'unknown', toStatus: 'not_created', source: 'api' });
    expect(changes(orderId).at(-1)).toMatchObject({ previousStatus: 'unknown', status: 'not_created', source: 'api' });
    const row = await ctx.t.dataSource.query(`SELECT next_sync_at FROM fulfilment_orders WHERE id = '${orderId}'`);
    expect(row[0].next_sync_at).toBeNull();
  });

  it('refuses an id another order holds, an order that is not unknown, and a malformed resolution, writing nothing', async () => {
    const { orderId: first, remoteId } = await lostCreate('lost-twice-a');
    const { orderId: second } = await lostCreate('lost-twice-b');
    await fulfilment.resolveUnknown(first, { providerOrderId: remoteId! });
    await expect(fulfilment.resolveUnknown(second, { providerOrderId: remoteId! })).rejects.toThrow(/already belongs to order/);
    expect((await fulfilment.getOrder(second)).status).toBe('unknown');
    const { order } = await ctx.flow.createDelivery({ idempotencyKey: 'fine-order', order: withoutOwnReference() });
    await expect(fulfilment.resolveUnknown(order.id, { notCreated: true })).rejects.toThrow(/is accepted, not unknown/);
    await expect(fulfilment.resolveUnknown(second, {} as never)).rejects.toBeInstanceOf(FulfilmentValidationError);
    await expect(fulfilment.resolveUnknown(second, { providerOrderId: '' })).rejects.toBeInstanceOf(FulfilmentValidationError);
  });
});
