import { describe, it, expect } from '@jest/globals';
import { CARYRX_ORDER_STATUSES } from 'nestjs-fulfilment';
import { decideTransition, normaliseProviderStatus } from './order-status.js';

describe('CaryRx statuses: one list', () => {
  it('the exported list holds the documented statuses, once each', () => {
    expect(CARYRX_ORDER_STATUSES).toEqual(expect.arrayContaining(['pending', 'ready_to_fill']));
    expect(new Set(CARYRX_ORDER_STATUSES).size).toBe(CARYRX_ORDER_STATUSES.length);
  });

  it('every exported status is known to the state machine, and a status outside the list is not', () => {
    for (const status of CARYRX_ORDER_STATUSES) expect([status, normaliseProviderStatus('caryrx', status)]).toEqual([status, expect.any(String)]);
    expect(normaliseProviderStatus('caryrx', 'on_hold')).toBeUndefined();
    // What "known" changes: an unlisted status is kept, but flagged as unknown.
    const current = { provider: 'caryrx' as const, status: 'accepted' as const, providerStatus: 'pending', providerUpdatedAt: null };
    expect(decideTransition(current, { providerStatus: 'on_hold' })).toMatchObject({ kind: 'apply', knownProviderStatus: false });
    for (const status of CARYRX_ORDER_STATUSES.filter((s) => s !== 'pending')) {
      expect(decideTransition(current, { providerStatus: status })).toMatchObject({ kind: 'apply', knownProviderStatus: true });
    }
  });
});
