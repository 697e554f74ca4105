import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FulfilmentEvents, FulfilmentOrder, FulfilmentService, ProviderEndpoints } from 'nestjs-fulfilment';
import { SCRIPTDROP_DOC_INPUT } from '../fixtures/scriptdrop-examples.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const README = readFileSync(join(process.cwd(), 'README.md'), 'utf8');

/** The backticked names in the first column of the `n`-th table after `heading`. */
function readmeTableFields(heading: string, n = 0): string[] {
  const section = README.slice(README.indexOf(`\n${heading}\n`));
  const table = section.split(/\n(?=\| field \|)/)[n + 1];
  const rows = table.split('\n').slice(2);
  const end = rows.findIndex((line) => !line.startsWith('|'));
  return rows.slice(0, end === -1 ? undefined : end).map((line) => /^\| `([^`]+)`/.exec(line)![1]);
}

/** The payload list of an event in the README's events table. */
function readmeEventFields(event: string): string[] {
  const row = README.split('\n').find((line) => line.startsWith(`| \`${event}\` |`))!;
  return row.split('|')[2].split(',').map((f) => f.replace(/[`\s]/g, ''));
}

const sorted = (keys: string[]) => [...keys].sort();

describe('the read model: views, never rows', () => {
  let t: TestApp;
  let fulfilment: FulfilmentService;

  beforeAll(async () => {
    t = await createTestApp({ sandbox: { stepMs: 0 }, sync: { enabled: false } });
    fulfilment = t.app.get(FulfilmentService);
  });
  afterAll(async () => t?.close());

  const ORDER_FIELDS = [
    'id', 'provider', 'providerOrderId', 'idempotencyKey', 'hostReference', 'serviceLevel', 'status', 'providerStatus',
    'trackingNumber', 'trackingUrl', 'eta', 'packagingMethod', 'samedayLocationX', 'samedayLocationY', 'createdAt', 'updatedAt', 'providerUpdatedAt',
  ];
  const HISTORY_FIELDS = ['fromStatus', 'toStatus', 'fromProviderStatus', 'toProviderStatus', 'source', 'actor', 'providerTimestamp', 'occurredAt'];

  it('the README documents exactly these fields', () => {
    expect(sorted(readmeTableFields('### Reading orders', 0))).toEqual(sorted(ORDER_FIELDS));
    expect(sorted(readmeTableFields('### Reading orders', 1))).toEqual(sorted(HISTORY_FIELDS));
  });

  it('getOrder and every call that answers with an order return exactly the documented fields, no lease, version or sync columns', async () => {
    const { order: placed } = await fulfilment.scriptdrop.createDelivery({
      idempotencyKey: 'view-1',
      hostReference: 'checkout-view-1',
      order: { ...SCRIPTDROP_DOC_INPUT.shipping(), externalReferenceNumber: undefined },
    });
    const read = await fulfilment.getOrder(placed.id);
    // The row has the internals (the check could fail), the view does not.
    const row = await t.dataSource.manager.findOneByOrFail(FulfilmentOrder, { id: placed.id });
    expect(Object.keys(row)).toEqual(expect.arrayContaining(['syncLeaseOwner', 'syncLeaseUntil', 'version', 'nextSyncAt', 'lastError']));

    const sim = t.app.get(ProviderEndpoints).sandbox!.scriptdrop;
    sim.advance(placed.providerOrderId!);
    const answers = {
      placed,
      read,
      found: (await fulfilment.findOrderByIdempotencyKey('view-1'))!,
      refreshed: await fulfilment.refreshOrder(placed.id),
      details: (await fulfilment.scriptdrop.getDeliveryDetails(placed.id)).order,
    };
    for (const [name, view] of Object.entries(answers)) {
      expect([name, sorted(Object.keys(view))]).toEqual([name, sorted(ORDER_FIELDS)]);
      expect([name, Object.getPrototypeOf(view)]).toEqual([name, Object.prototype]);
      expect(Object.keys(view).filter((k) => /lease|version|sync|lastError|patientLink/i.test(k))).toEqual([]);
    }
    expect(read).toMatchObject({ provider: 'scriptdrop', hostReference: 'checkout-view-1', idempotencyKey: 'view-1', serviceLevel: 'shipping' });
    expect(answers.refreshed.providerStatus).not.toBe(read.providerStatus);
  });

  it('getOrderHistory returns entries with exactly the documented fields, and the status event the documented payload', async () => {
    const { order } = await fulfilment.scriptdrop.createDelivery({
      idempotencyKey: 'view-2',
      order: { ...SCRIPTDROP_DOC_INPUT.sameday(), externalReferenceNumber: undefined },
    });
    const cancelled = await fulfilment.cancelOrder(order.id);
    expect(sorted(Object.keys(cancelled))).toEqual(sorted(ORDER_FIELDS));
    const history = await fulfilment.getOrderHistory(order.id);
    expect(history.map((h) => h.toStatus)).toEqual(['created', 'accepted', 'cancelled']);
    for (const entry of history) {
      expect(sorted(Object.keys(entry))).toEqual(sorted(HISTORY_FIELDS));
      expect(entry.occurredAt).toBeInstanceOf(Date);
    }
    const event = t.events.filter((e) => e.name === FulfilmentEvents.OrderStatusChanged).at(-1)!.payload as object;
    expect(sorted(Object.keys(event))).toEqual(sorted(readmeEventFields(FulfilmentEvents.OrderStatusChanged)));
  });
});
