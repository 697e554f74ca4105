import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { CaryRxFulfilment, FulfilmentService, StatusSyncService, type FulfilmentOrderView } from 'nestjs-fulfilment';
import { seedOrder } from '../support/seed-orders.js';
import { makeAllDue } from '../sync/support.js';
import { postWebhook, startCaryRx, webhookUrl, type CaryRxTestContext } from './support.js';

const T1 = '2026-03-01T11:00:00.000Z';
const T2 = '2026-03-01T12:00:00.000Z';
const T3 = '2026-03-01T13:00:00.000Z';

const details = (o: FulfilmentOrderView) => ({
  serviceLevel: o.serviceLevel,
  packagingMethod: o.packagingMethod,
  samedayLocationX: o.samedayLocationX,
  samedayLocationY: o.samedayLocationY,
});

/**
 * What CaryRx sends about the delivery (shipping and packaging method, sameday location) is kept
 * from webhooks and reads, over real HTTP, with the status's "newer wins" rule.
 */
describe('CaryRx delivery details', () => {
  let ctx: CaryRxTestContext;
  let fulfilment: FulfilmentService;

  beforeAll(async () => {
    ctx = await startCaryRx();
    fulfilment = ctx.t.app.get(FulfilmentService);
  });
  afterAll(async () => ctx?.close());

  const seed = (providerOrderId: string) =>
    seedOrder(ctx.t.dataSource, { provider: 'caryrx', providerOrderId, providerStatus: 'pending', serviceLevel: 'sameday_delivery' });
  const event = (id: string, fields: Record<string, unknown>) => postWebhook(webhookUrl(ctx.t, 'orders'), { id, ...fields });
  /** The simulator answers the next `GET /v1/orders/:id` with `body` (the read CaryRx would give). */
  const nextRead = (id: string, body: Record<string, unknown>) =>
    ctx.sim.addFault({ method: 'GET', path: `/v1/orders/${id}`, kind: 'status', status: 200, body: { id, ...body }, times: 1 });

  it('a webhook stores them; an older event, or one that leaves them out, does not overwrite them', async () => {
    const order = await seed('dd00000001');
    const newer = await event('dd00000001', {
      order_status: 'ready_to_fill',
      updated_at: T2,
      shipping_method: '2day_mailorder',
      packaging_method: 'usps_firstclass',
      sameday_location_x: '40.7128',
      sameday_location_y: '-74.0060',
    });
    expect(newer).toMatchObject({ status: 200, body: { outcome: 'applied' } });
    const kept = { serviceLevel: '2day_mailorder', packagingMethod: 'usps_firstclass', samedayLocationX: '40.7128', samedayLocationY: '-74.0060' };
    expect(details(await fulfilment.getOrder(order.id))).toEqual(kept);

    const older = await event('dd00000001', {
      order_status: 'ready_to_fill',
      updated_at: T1,
      shipping_method: 'sameday_delivery',
      packaging_method: 'box',
      sameday_location_x: '1',
      sameday_location_y: '2',
    });
    expect(older.body.outcome).toBe('stale');
    expect(details(await fulfilment.getOrder(order.id))).toEqual(kept);

    // Newer, same status, tracking fields left out or null: nothing is cleared.
    const silent = await event('dd00000001', { order_status: 'ready_to_fill', updated_at: T3, sameday_location_x: null });
    expect(silent.body.outcome).toBe('unchanged');
    expect(details(await fulfilment.getOrder(order.id))).toEqual(kept);
  });

  it('a webhook that sends a number where the document shows a string is refused naming the field', async () => {
    await seed('dd00000002');
    const res = await event('dd00000002', { order_status: 'pending', packaging_method: 7, sameday_location_y: 'y'.repeat(65) });
    expect(res.status).toBe(400);
    expect(res.body.fields.map((f: { path: string }) => f.path).sort()).toEqual(['packaging_method', 'sameday_location_y']);
  });

  it('a read (refreshOrder and the sync) stores them; an older read does not overwrite them', async () => {
    const order = await seed('dd00000003');
    const flow = ctx.t.app.get(CaryRxFulfilment);
    nextRead('dd00000003', { order_status: 'ready_to_fill', updatedAt: T2, shipping_method: '2day_mailorder', packaging_method: 'usps_firstclass', sameday_location_x: '40.1', sameday_location_y: '-73.9' });
    const read = await flow.refreshOrder(order.id);
    expect(details(read)).toEqual({ serviceLevel: '2day_mailorder', packagingMethod: 'usps_firstclass', samedayLocationX: '40.1', samedayLocationY: '-73.9' });

    nextRead('dd00000003', { order_status: 'ready_to_fill', updatedAt: T1, packaging_method: 'box', sameday_location_x: '0', sameday_location_y: '0' });
    expect(details(await flow.refreshOrder(order.id))).toEqual(details(read));

    // The sync reads the same way: a newer location is taken.
    nextRead('dd00000003', { order_status: 'filled', updatedAt: T3, sameday_location_x: '40.2', sameday_location_y: '-73.8' });
    await makeAllDue(ctx.t.dataSource);
    // The orders seeded above exist only here, not at the simulator: their reads fail (404).
    expect(await ctx.t.app.get(StatusSyncService).runOnce()).toMatchObject({ changed: 1 });
    expect(await fulfilment.getOrder(order.id)).toMatchObject({ providerStatus: 'filled', packagingMethod: 'usps_firstclass', samedayLocationX: '40.2', samedayLocationY: '-73.8' });
  });
});
