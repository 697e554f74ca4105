import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import {
  FulfilmentConfigurationError,
  FulfilmentEvents,
  FulfilmentNotFoundError,
  FulfilmentOrder,
  FulfilmentService,
  FulfilmentValidationError,
  OrderStatusHistory,
  ProviderAuthError,
  ProviderEndpoints,
  ProviderHttpClient,
  ProviderNotFoundError,
  ProviderRequestError,
  ProviderValidationError,
  ScriptDropFulfilment,
  ScriptDropService,
  SCRIPTDROP_MESSAGES,
  type OrderStatusChangedEvent,
} from 'nestjs-fulfilment';
import { SCRIPTDROP_DOC_INPUT, SCRIPTDROP_DOC_WIRE, docAddPrescription } from '../fixtures/scriptdrop-examples.js';
import { createTestApp } from '../support/test-app.js';
import { readStatuses, advanceTo, startScriptDrop, type ScriptDropTestContext } from './support.js';

describe('ScriptDrop deliveries: stored, created once, moved through the one state machine', () => {
  let ctx: ScriptDropTestContext;
  let n = 0;
  const key = () => `delivery-${++n}`;
  /** The simulator's Basic credentials, for requests sent over raw HTTP. */
  const simAuth = () => ({ authorization: `Basic ${Buffer.from(`${ctx.sim.apiKey}:${ctx.sim.apiSecret}`).toString('base64')}` });

  beforeAll(async () => {
    ctx = await startScriptDrop();
  });
  afterAll(async () => {
    await ctx?.close();
  });

  const row = (id: string) => ctx.t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { id });
  const history = (orderId: string) =>
    ctx.t.dataSource.manager.find(OrderStatusHistory, { where: { orderId }, order: { createdAt: 'ASC' } });
  const deliver = async (order = SCRIPTDROP_DOC_INPUT.sameday()) => {
    const { externalReferenceNumber: _own, ...rest } = order;
    return (await ctx.flow.createDelivery({ idempotencyKey: key(), hostReference: 'checkout-7', order: rest })).order;
  };

  it('creates a delivery: row first, sent with the key as external_reference_number, then the ScriptDrop id', async () => {
    const { order, created } = await ctx.flow.createDelivery({ idempotencyKey: 'first-key', hostReference: 'checkout-1', order: SCRIPTDROP_DOC_INPUT.ondemand() });
    expect(created).toBe(true);
    expect(order).toMatchObject({
      provider: 'scriptdrop',
      idempotencyKey: 'first-key',
      hostReference: 'checkout-1',
      serviceLevel: 'ondemand',
      status: 'accepted',
      providerStatus: 'new',
    });
    expect(ctx.sim.orders.get(order.providerOrderId!)?.externalReferenceNumber).toBe('first-key');
    expect((await history(order.id)).map((h) => [h.fromStatus, h.toStatus, h.toProviderStatus, h.source])).toEqual([
      [null, 'created', null, 'create'],
      ['created', 'accepted', 'new', 'create'],
    ]);
    const events = ctx.t.events.filter((e) => e.name === FulfilmentEvents.OrderStatusChanged).map((e) => e.payload as OrderStatusChangedEvent);
    expect(events.filter((e) => e.orderId === order.id).map((e) => e.status)).toContain('accepted');
  });

  it('a reused idempotency key returns the stored order and sends nothing', async () => {
    const creates = ctx.sim.createCount();
    const again = await ctx.flow.createDelivery({ idempotencyKey: 'first-key', order: SCRIPTDROP_DOC_INPUT.ondemand() });
    expect(again.created).toBe(false);
    expect(again.order.idempotencyKey).toBe('first-key');
    expect(ctx.sim.createCount()).toBe(creates);
  });

  it('refuses an external reference number that differs from the idempotency key (nothing stored or sent)', async () => {
    const creates = ctx.sim.createCount();
    const error = (await ctx.flow
      .createDelivery({ idempotencyKey: 'key-x', order: { ...SCRIPTDROP_DOC_INPUT.sameday(), externalReferenceNumber: 'other-ref' } })
      .catch((e: unknown) => e)) as FulfilmentValidationError;
    expect(error).toBeInstanceOf(FulfilmentValidationError);
    expect(error.fields.map((f) => f.path)).toEqual(['order.externalReferenceNumber']);
    expect(error.message).not.toContain('other-ref');
    expect(ctx.sim.createCount()).toBe(creates);
    expect(await ctx.t.dataSource.manager.countBy(FulfilmentOrder, { idempotencyKey: 'key-x' })).toBe(0);
    // The same value as the key is fine.
    const ok = await ctx.flow.createDelivery({ idempotencyKey: 'key-y', order: { ...SCRIPTDROP_DOC_INPUT.sameday(), externalReferenceNumber: 'key-y' } });
    expect(ok.created).toBe(true);
  });

  it('validation paths of createDelivery are prefixed with `order.`', async () => {
    const order = SCRIPTDROP_DOC_INPUT.shipping();
    delete order.shipping;
    const error = (await ctx.flow.createDelivery({ idempotencyKey: '', order }).catch((e: unknown) => e)) as FulfilmentValidationError;
    expect(error.fields.map((f) => f.path).sort()).toEqual(['idempotencyKey', 'order.shipping']);
  });

  it('a refusal by ScriptDrop leaves no row and surfaces the provider’s message', async () => {
    ctx.sim.addFault({
      method: 'POST',
      path: '/api/v1/orders',
      kind: 'status',
      status: 400,
      body: { error: { message: SCRIPTDROP_MESSAGES.noSaturdayDelivery } },
      times: 1,
    });
    const { externalReferenceNumber: _own, ...order } = SCRIPTDROP_DOC_INPUT.sameday();
    const error = (await ctx.flow.createDelivery({ idempotencyKey: 'refused-key', order }).catch((e: unknown) => e)) as ProviderValidationError;
    expect(error).toBeInstanceOf(ProviderValidationError);
    expect(error.providerMessage).toBe('Carrier service level does not offer saturday delivery.');
    expect(await ctx.t.dataSource.manager.countBy(FulfilmentOrder, { idempotencyKey: 'refused-key' })).toBe(0);
  });

  it('refresh follows a sameday delivery to delivered, with history, ETA and the terminal state', async () => {
    const order = await deliver();
    const id = order.providerOrderId!;
    const seen: Array<[string, string | null]> = [];
    for (const status of ['submitted to courier', 'picked_up', 'delivered']) {
      advanceTo(ctx.sim, id, status);
      const fresh = await ctx.flow.refresh(order.id);
      seen.push([fresh.status, fresh.providerStatus]);
    }
    expect(seen).toEqual([
      ['accepted', 'submitted to courier'],
      ['in_transit', 'picked_up'],
      ['delivered', 'delivered'],
    ]);
    const stored = await row(order.id);
    expect(stored.eta).toBeInstanceOf(Date);
    expect(stored.providerUpdatedAt).toEqual(new Date(ctx.sim.orders.get(id)!.deliveryAt!));
    expect(stored.nextSyncAt).toBeNull();
    expect((await history(order.id)).slice(2).map((h) => [h.toStatus, h.source])).toEqual([
      ['accepted', 'api'],
      ['in_transit', 'api'],
      ['delivered', 'api'],
    ]);
    // The short-lived signature URL is available live, and never stored.
    const details = await ctx.flow.getDeliveryDetails(order.id);
    expect(details.remote.delivery?.signatureUrl).toMatch(/^https:\/\//);
    expect(JSON.stringify(await row(order.id))).not.toContain('signature');
  });

  it('a failed delivery becomes delivery_failed, then returned', async () => {
    const order = await deliver();
    ctx.sim.failDelivery(order.providerOrderId!);
    advanceTo(ctx.sim, order.providerOrderId!, 'delivery_attempted');
    expect((await ctx.flow.refresh(order.id)).status).toBe('delivery_failed');
    ctx.sim.advance(order.providerOrderId!);
    const returned = await ctx.flow.refresh(order.id);
    expect([returned.status, returned.providerStatus]).toEqual(['returned', 'returned_to_pharmacy']);
  });

  it('a shipping delivery stores its tracking number and URL at creation', async () => {
    const order = await deliver(SCRIPTDROP_DOC_INPUT.shipping());
    const sim = ctx.sim.orders.get(order.providerOrderId!)!;
    expect(order.trackingNumber).toBe(sim.shipping!.trackingNumber);
    expect(order.trackingUrl).toBe(sim.shipping!.trackingUrl);
    expect(order.serviceLevel).toBe('shipping');
    ctx.sim.advance(order.providerOrderId!);
    expect((await ctx.flow.refresh(order.id)).status).toBe('delivered');
  });

  it.each(['new', 'submitted to courier'])('cancel is allowed while %s', async (status) => {
    const order = await deliver();
    if (status !== 'new') advanceTo(ctx.sim, order.providerOrderId!, status);
    const cancelled = await ctx.flow.cancel(order.id);
    expect([cancelled.status, cancelled.providerStatus]).toEqual(['cancelled', 'cancelled']);
    expect(cancelled.providerUpdatedAt).toEqual(new Date(ctx.sim.orders.get(order.providerOrderId!)!.cancelledAt!));
    expect((await history(order.id)).at(-1)).toMatchObject({ toStatus: 'cancelled', toProviderStatus: 'cancelled', source: 'api' });
    expect(ctx.sim.countRequests('DELETE', `/api/v1/orders/${order.providerOrderId}`)).toBe(1);
  });

  it('cancel after pickup is refused with ScriptDrop’s message as a typed error; the local row is unchanged', async () => {
    const order = await deliver();
    advanceTo(ctx.sim, order.providerOrderId!, 'picked_up');
    expect((await ctx.flow.refresh(order.id)).status).toBe('in_transit');
    const before = await row(order.id);
    const historyBefore = (await history(order.id)).length;

    const error = (await ctx.flow.cancel(order.id).catch((e: unknown) => e)) as ProviderValidationError;
    expect(error).toBeInstanceOf(ProviderValidationError);
    expect(error.status).toBe(400);
    expect(error.providerMessage).toBe('Order is not in a cancellable status');
    expect(error.provider).toBe('scriptdrop');

    const after = await row(order.id);
    expect(after).toEqual(before);
    expect(await history(order.id)).toHaveLength(historyBefore);
  });

  it('the facade: fulfilment.scriptdrop is this flow, and cancelOrder / refreshOrder route to it', async () => {
    const fulfilment = ctx.t.app.get(FulfilmentService);
    expect(fulfilment.scriptdrop).toBe(ctx.flow);
    const order = await deliver();
    expect((await fulfilment.cancelOrder(order.id)).status).toBe('cancelled');
    expect((await fulfilment.refreshOrder(order.id)).providerStatus).toBe('cancelled');
  });

  it('get multiple returns every requested order in one call; readStatuses maps them for the sync', async () => {
    const orders = [await deliver(), await deliver(SCRIPTDROP_DOC_INPUT.shipping()), await deliver(SCRIPTDROP_DOC_INPUT.ondemand())];
    const ids = orders.map((o) => o.providerOrderId!);
    advanceTo(ctx.sim, ids[0], 'picked_up');
    ctx.sim.advance(ids[1]);
    ctx.sim.resetReadCounts();
    const multiGets = ctx.sim.countRequests('GET', '/api/v1/orders');

    const remote = await ctx.api.getOrders(ids);
    expect(remote.map((o) => o.id).sort()).toEqual([...ids].sort());
    expect(remote.find((o) => o.id === ids[0])?.status).toBe('picked_up');

    const observations = await readStatuses(ctx, [...ids, '999999']);
    expect([...observations.keys()].sort()).toEqual([...ids].sort());
    expect(observations.get(ids[0])).toMatchObject({ providerStatus: 'picked_up', providerTimestamp: new Date(ctx.sim.orders.get(ids[0])!.pickupAt!) });
    expect(observations.get(ids[1])).toMatchObject({ providerStatus: 'delivered', trackingNumber: ctx.sim.orders.get(ids[1])!.shipping!.trackingNumber });
    expect(observations.get(ids[2])).toMatchObject({ providerStatus: 'new', providerTimestamp: null });

    expect(ctx.sim.countRequests('GET', '/api/v1/orders')).toBe(multiGets + 2);
    for (const id of ids) expect(ctx.sim.readCount(id)).toBe(2);
    expect(await readStatuses(ctx, [])).toEqual(new Map());
  });

  it('adds and removes a prescription', async () => {
    const order = await deliver();
    const id = order.providerOrderId!;
    const extra = { ...docAddPrescription(), number: '555001' };
    const afterAdd = await ctx.flow.addPrescription(order.id, extra);
    expect(afterAdd.id).toBe(order.id);
    expect(ctx.sim.orders.get(id)!.prescriptionNumbers).toEqual(['897234', '555001']);

    await ctx.flow.removePrescription(order.id, '897234');
    expect(ctx.sim.orders.get(id)!.prescriptionNumbers).toEqual(['555001']);
    expect(ctx.sim.countRequests('DELETE', `/api/v1/orders/${id}/prescriptions/897234`)).toBe(1);

    await expect(ctx.flow.removePrescription(order.id, '897234')).rejects.toBeInstanceOf(ProviderNotFoundError);
    // Through the service: the answer is the order.
    const viaApi = await ctx.api.addPrescription(id, { ...docAddPrescription(), number: 'RX/7 a' });
    expect(viaApi.id).toBe(id);
    await ctx.api.removePrescription(id, 'RX/7 a');
    expect(ctx.sim.orders.get(id)!.prescriptionNumbers).toEqual(['555001']);
  });

  it('unknown ids: FulfilmentNotFoundError locally, ProviderNotFoundError at ScriptDrop', async () => {
    await expect(ctx.flow.cancel('00000000-0000-0000-0000-000000000000')).rejects.toBeInstanceOf(FulfilmentNotFoundError);
    await expect(ctx.api.getOrder('424242')).rejects.toBeInstanceOf(ProviderNotFoundError);
    await expect(ctx.api.cancelOrder('424242')).rejects.toBeInstanceOf(ProviderNotFoundError);
  });

  it('pharmacy delivery information: each parameter sent as documented, the body as it came (TBD)', async () => {
    const deliveryAddress = { street: '1230 Street', street2: 'Unit 1', city: 'Columbus', state: 'OH', zipcode: '43210' };
    const info = await ctx.api.getPharmacyDeliveryInformation('1234567', { deliveryAddress, pod: 'adult_required', package: 'secondary', saturdayDelivery: true });
    expect(info).toMatchObject({ pharmacy: { id: '1234567' } });
    expect(ctx.sim.countRequests('GET', '/api/v1/pharmacies/1234567')).toBe(1);
    const sent = ctx.sim.requests.filter((r) => r.path === '/api/v1/pharmacies/1234567').at(-1)!;
    expect(sent.status).toBe(200);
    // Brackets literal on the wire, as for `ids[]`.
    expect(sent.query).toContain('delivery[address][street]=1230%20Street');
    expect([...new URLSearchParams(sent.query)]).toEqual([
      ['delivery[address][street]', '1230 Street'],
      ['delivery[address][street2]', 'Unit 1'],
      ['delivery[address][city]', 'Columbus'],
      ['delivery[address][state]', 'OH'],
      ['delivery[address][zipcode]', '43210'],
      ['POD', 'adult_required'],
      ['package', 'secondary'],
      ['saturday[delivery]', 'true'],
    ]);

    // Only the address: the optional parameters are left out.
    const { street2: _none, ...plain } = deliveryAddress;
    await ctx.api.getPharmacyDeliveryInformation('1234567890', { deliveryAddress: plain, saturdayDelivery: false });
    const second = ctx.sim.requests.filter((r) => r.path === '/api/v1/pharmacies/1234567890').at(-1)!;
    expect([...new URLSearchParams(second.query).keys()]).toEqual([
      'delivery[address][street]',
      'delivery[address][city]',
      'delivery[address][state]',
      'delivery[address][zipcode]',
      'saturday[delivery]',
    ]);
  });

  it('the simulator answers a wrong method on a known path with 405 and Allow, an unknown path with 404', async () => {
    const headers = simAuth();
    const wrong = await fetch(`${ctx.sim.url}/api/v1/orders/1234`, { method: 'PUT', headers });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, DELETE');
    expect(await wrong.json()).toEqual({ error: { message: 'Method Not Allowed' } });
    const unknown = await fetch(`${ctx.sim.url}/api/v1/nothing`, { method: 'PUT', headers });
    expect(unknown.status).toBe(404);
    await unknown.arrayBuffer();

    // Through the HTTP core: a 405 is a refused request, not a state conflict (and not retried).
    const client = new ProviderHttpClient({ provider: 'scriptdrop', baseUrl: ctx.sim.url, authHeaders: headers, logger: { log() {}, warn() {}, debug() {}, error() {} } });
    const error = await client.request({ method: 'PUT', path: '/api/v1/orders/1234' }).catch((e: unknown) => e);
    client.destroy();
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect(error).toMatchObject({ status: 405, attempts: 1, providerMessage: 'Method Not Allowed' });
  });

  it('the simulator refuses delivery information without an address: 400 in ScriptDrop’s error shape', async () => {
    const res = await fetch(`${ctx.sim.url}/api/v1/pharmacies/1234567?POD=required`, { headers: simAuth() });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { message: 'delivery.address.street is required' } });
  });

  it('wrong credentials: 401 from the simulator, ProviderAuthError from the client', async () => {
    const raw = await fetch(`${ctx.sim.url}/api/v1/orders/1000`);
    expect(raw.status).toBe(401);
    expect(await raw.json()).toEqual({ error: { message: 'Unauthorized' } });
    const client = new ProviderHttpClient({
      provider: 'scriptdrop',
      baseUrl: ctx.sim.url,
      authHeaders: { authorization: `Basic ${Buffer.from(`${ctx.sim.apiKey}:wrong-secret`).toString('base64')}` },
      logger: { log() {}, warn() {}, debug() {}, error() {} },
    });
    const error = (await new ScriptDropService(client).getOrder('1000').catch((e: unknown) => e)) as ProviderAuthError;
    client.destroy();
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(error.message).not.toContain('wrong-secret');
  });

  it('not configured: FulfilmentConfigurationError "ScriptDrop is not configured"', async () => {
    await expect(new ScriptDropService(null).getOrder('1')).rejects.toThrow(new FulfilmentConfigurationError('ScriptDrop is not configured'));
  });

  it('the simulator answers invalid input and the document’s named 400s with its error shape', async () => {
    const auth = { authorization: `Basic ${Buffer.from(`${ctx.sim.apiKey}:${ctx.sim.apiSecret}`).toString('base64')}`, 'content-type': 'application/json' };
    const post = (body: unknown) => fetch(`${ctx.sim.url}/api/v1/orders`, { method: 'POST', headers: auth, body: JSON.stringify(body) });
    const { pharmacy: _p, ...noPharmacy } = SCRIPTDROP_DOC_WIRE.sameday;
    const missing = await post(noPharmacy);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: { message: 'pharmacy is required' } });

    const saturday = await post({ ...SCRIPTDROP_DOC_WIRE.shipping, shipping: { ...SCRIPTDROP_DOC_WIRE.shipping.shipping, saturday_delivery: true } });
    expect(saturday.status).toBe(400);
    expect(await saturday.json()).toEqual({ error: { message: 'Carrier service level does not offer saturday delivery.' } });
  });
});

describe('ScriptDrop not configured', () => {
  it('a delivery is refused before anything is stored: FulfilmentConfigurationError, no unknown order left behind', async () => {
    const t = await createTestApp({
      caryrx: { baseUrl: 'http://127.0.0.1:9', apiKey: 'caryrx-only-key', environment: 'development' },
      webhooks: { secret: 'caryrx-only-webhook-secret-01' },
      sync: { enabled: false },
    });
    try {
      const fulfilment = t.app.get(FulfilmentService);
      await expect(
        fulfilment.scriptdrop.createDelivery({ idempotencyKey: 'no-scriptdrop', order: { ...SCRIPTDROP_DOC_INPUT.sameday(), externalReferenceNumber: undefined } }),
      ).rejects.toThrow(new FulfilmentConfigurationError('ScriptDrop is not configured'));
      expect(await fulfilment.findOrderByIdempotencyKey('no-scriptdrop')).toBeNull();
    } finally {
      await t.close();
    }
  });
});

describe('ScriptDrop in sandbox mode', () => {
  it('runs a delivery against the in-process simulator', async () => {
    const t = await createTestApp({ sandbox: { stepMs: 0 }, sync: { enabled: false } });
    try {
      const sim = t.app.get(ProviderEndpoints).sandbox!.scriptdrop;
      const flow = t.app.get(ScriptDropFulfilment);
      const { order } = await flow.createDelivery({ idempotencyKey: 'sandbox-1', order: SCRIPTDROP_DOC_INPUT.shipping() });
      expect(sim.orders.get(order.providerOrderId!)?.serviceLevel).toBe('shipping');
      sim.advance(order.providerOrderId!);
      expect((await flow.refresh(order.id)).status).toBe('delivered');
    } finally {
      await t.close();
    }
  });
});
