import { describe, it, expect } from '@jest/globals';
import { CARYRX_ORDER_STATUSES } from 'nestjs-fulfilment';
import { decide, type OrderState } from './order-state-machine.js';
import { CARYRX_STATUS_TABLE } from '../caryrx/caryrx-observation.js';

const normalised = (status: string) => CARYRX_STATUS_TABLE[status]?.status;
const NO_DETAILS = { trackingUrl: null, trackingNumber: null, serviceLevel: null, packagingMethod: null, samedayLocationX: null, samedayLocationY: null, eta: null };

describe('CaryRx statuses: one list', () => {
  it('the exported list holds the documented statuses, once each', () => {
    expect(CARYRX_ORDER_STATUSES).toEqual(expect.arrayContaining(['pending', 'ready_to_fill']));
    expect(new Set(CARYRX_ORDER_STATUSES).size).toBe(CARYRX_ORDER_STATUSES.length);
  });

  it('every exported status is known to the state machine, and a status outside the list is not', () => {
    for (const status of CARYRX_ORDER_STATUSES) expect([status, normalised(status)]).toEqual([status, expect.any(String)]);
    expect(normalised('on_hold')).toBeUndefined();
    expect(Object.keys(CARYRX_STATUS_TABLE).sort()).toEqual([...CARYRX_ORDER_STATUSES].sort());
    // What "known" changes: an unlisted status is kept, but flagged as unknown.
    const current = { ...NO_DETAILS, status: 'accepted' as const, providerStatus: 'pending', providerUpdatedAt: null };
    expect(decide(current, { statuses: CARYRX_STATUS_TABLE, providerStatus: 'on_hold' })).toMatchObject({ outcome: 'applied', unknownProviderStatus: true });
    for (const status of CARYRX_ORDER_STATUSES.filter((s) => s !== 'pending')) {
      expect(decide(current, { statuses: CARYRX_STATUS_TABLE, providerStatus: status })).toMatchObject({ outcome: 'applied', unknownProviderStatus: false });
    }
  });
});

describe('the state machine', () => {
  const at = (iso: string) => new Date(iso);
  const shipped = { ...NO_DETAILS, status: 'in_transit' as const, providerStatus: 'shipped', providerUpdatedAt: at('2026-01-01T10:30:00Z'), eta: at('2026-01-02T00:00:00Z') };
  const observe = (providerStatus: string, iso: string, extra: object = {}) => ({ statuses: CARYRX_STATUS_TABLE, providerStatus, providerTimestamp: at(iso), ...extra });

  it('an older observation is stale whatever its status, details included', () => {
    expect(decide(shipped, observe('shipped', '2026-01-01T10:15:00Z', { eta: at('2026-01-03T00:00:00Z'), trackingUrl: '/OLD' }))).toMatchObject({ outcome: 'stale' });
    const delivered = { ...shipped, status: 'delivered' as const, providerStatus: 'delivered', providerUpdatedAt: at('2026-01-01T13:00:00Z') };
    expect(decide(delivered, observe('delivered', '2026-01-01T12:00:00Z', { trackingUrl: '/OTHER' }))).toMatchObject({ outcome: 'stale' });
  });

  it('a newer observation of the same status brings its details and its timestamp', () => {
    const d = decide(shipped, observe('shipped', '2026-01-01T11:00:00Z', { eta: at('2026-01-03T00:00:00Z') }));
    expect(d).toMatchObject({ outcome: 'unchanged', write: true, next: { eta: at('2026-01-03T00:00:00Z'), providerUpdatedAt: at('2026-01-01T11:00:00Z') } });
    expect(decide(shipped, observe('shipped', '2026-01-01T10:30:00Z'))).toMatchObject({ outcome: 'unchanged', write: false });
  });

  it('two observations of the same instant end in the same details whichever is applied first', () => {
    const a = observe('shipped', '2026-01-01T10:30:00Z', { trackingUrl: '/A', eta: at('2026-01-04T00:00:00Z') });
    const b = observe('shipped', '2026-01-01T10:30:00Z', { trackingUrl: '/B' });
    const apply = (state: OrderState, o: ReturnType<typeof observe>): OrderState => {
      const d = decide(state, o);
      return d.outcome === 'stale' ? state : d.next;
    };
    const ab = apply(apply(shipped, a), b);
    const ba = apply(apply(shipped, b), a);
    expect(ab).toEqual(ba);
    expect(ab).toMatchObject({ trackingUrl: '/B', eta: at('2026-01-04T00:00:00Z') });
  });

  it('never moves backwards: a lower rank, or a lower step within one status, is stale', () => {
    expect(decide(shipped, { statuses: CARYRX_STATUS_TABLE, providerStatus: 'pending' })).toMatchObject({ outcome: 'stale' });
    const out = { ...shipped, providerStatus: 'out_for_delivery' };
    expect(decide(out, { statuses: CARYRX_STATUS_TABLE, providerStatus: 'shipped' })).toMatchObject({ outcome: 'stale' });
    expect(decide(shipped, { statuses: CARYRX_STATUS_TABLE, providerStatus: 'delivered' })).toMatchObject({ outcome: 'applied', next: { status: 'delivered' } });
  });

  it('two different statuses of the same instant end in the same status whichever is applied first, terminal ones too', () => {
    const apply = (state: OrderState, o: ReturnType<typeof observe>): OrderState => {
      const d = decide(state, o);
      return d.outcome === 'stale' ? state : d.next;
    };
    const pairs: Array<[string, string]> = [
      ['delivered', 'cancelled'],
      ['delivered', 'returned'],
      ['out_for_delivery', 'delivery_failed'],
      ['shipped', 'on_hold'], // a status the table does not know
    ];
    for (const [x, y] of pairs) {
      const a = observe(x, '2026-01-01T12:00:00Z', { eta: at('2026-01-05T00:00:00Z'), trackingUrl: '/A' });
      const b = observe(y, '2026-01-01T12:00:00Z', { eta: at('2026-01-04T00:00:00Z'), trackingUrl: '/B' });
      const ab = apply(apply(shipped, a), b);
      const ba = apply(apply(shipped, b), a);
      expect([x, y, ab]).toEqual([x, y, ba]);
    }
    // Different instants keep the usual rules: a terminal order stays terminal.
    const delivered = apply(shipped, observe('delivered', '2026-01-01T12:00:00Z'));
    expect(decide(delivered, observe('cancelled', '2026-01-01T12:30:00Z'))).toMatchObject({ outcome: 'stale' });
  });
});
