import { describe, it, expect } from '@jest/globals';
import { OpsCsrf } from './ops-csrf.js';

describe('OpsCsrf', () => {
  const key = 'k'.repeat(32);
  let now = Date.UTC(2026, 0, 1);
  const csrf = new OpsCsrf(key, () => now);

  it('accepts the operator\'s own token, and no other operator\'s', () => {
    const token = csrf.issue('alice');
    expect(csrf.verify('alice', token)).toBe(true);
    expect(csrf.verify('bob', token)).toBe(false);
  });

  it('refuses a token made with another key, tampered with, malformed or missing', () => {
    const token = csrf.issue('alice');
    const [issued, mac] = token.split('.');
    expect(new OpsCsrf('x'.repeat(32), () => now).verify('alice', token)).toBe(false);
    expect(csrf.verify('alice', `${issued}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`)).toBe(false);
    expect(csrf.verify('alice', `${(parseInt(issued, 36) + 1).toString(36)}.${mac}`)).toBe(false);
    for (const bad of [undefined, '', 'abc', `${token}.x`, ['a'], 'x'.repeat(200)]) expect(csrf.verify('alice', bad)).toBe(false);
  });

  it('expires after 12 hours', () => {
    const token = csrf.issue('alice');
    now += 12 * 3600_000 - 1000;
    expect(csrf.verify('alice', token)).toBe(true);
    now += 2000;
    expect(csrf.verify('alice', token)).toBe(false);
  });
});
