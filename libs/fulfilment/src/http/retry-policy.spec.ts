import { describe, it, expect } from '@jest/globals';
import {
  type AttemptFailure,
  backoffDelay,
  isIdempotent,
  isOutcomeUnknown,
  isRetryableFailure,
  mayHaveBeenProcessed,
  parseRetryAfter,
  retryDelay,
  shouldRetry,
} from './retry-policy.js';

const NOW = Date.UTC(2026, 2, 1, 10, 0, 0);

describe('parseRetryAfter', () => {
  it('reads delta-seconds as ms', () => {
    expect(parseRetryAfter('3', NOW)).toBe(3000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter(['120'], NOW)).toBe(120_000);
  });

  it('reads an HTTP date relative to now, past dates give 0', () => {
    expect(parseRetryAfter(new Date(NOW + 10_000).toUTCString(), NOW)).toBe(10_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 10:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfter(new Date(NOW - 10_000).toUTCString(), NOW)).toBe(0);
  });

  it.each([undefined, null, '', '  ', '-1', '1.5', 'soon', 'abc123', '3 seconds later?'])(
    'invalid %p → undefined',
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );
});

describe('backoffDelay', () => {
  it('doubles per attempt from baseMs, with jitter between 50% and 100%', () => {
    expect(backoffDelay(1, () => 0)).toBe(250);
    expect(backoffDelay(1, () => 1)).toBe(500);
    expect(backoffDelay(2, () => 0.5)).toBe(750);
    expect(backoffDelay(3, () => 1)).toBe(2000);
  });

  it('is capped at maxMs', () => {
    expect(backoffDelay(10, () => 1)).toBe(5000);
    expect(backoffDelay(10, () => 0)).toBe(2500);
    expect(backoffDelay(3, () => 1, { baseMs: 100, maxMs: 300 })).toBe(300);
  });

  it('never goes outside its range for any random value', () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      for (const r of [0, 0.1, 0.5, 0.999, 1]) {
        const ceiling = Math.min(500 * 2 ** (attempt - 1), 5000);
        const d = backoffDelay(attempt, () => r);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
  });
});

describe('isIdempotent', () => {
  it('GET/HEAD/DELETE/PUT are, POST/PATCH are not, unless overridden', () => {
    for (const m of ['GET', 'HEAD', 'DELETE', 'PUT', 'get']) expect(isIdempotent(m)).toBe(true);
    for (const m of ['POST', 'PATCH']) expect(isIdempotent(m)).toBe(false);
    expect(isIdempotent('POST', true)).toBe(true);
    expect(isIdempotent('GET', false)).toBe(false);
  });
});

describe('shouldRetry', () => {
  const status = (s: number, retryAfterMs?: number): AttemptFailure => ({ kind: 'status', status: s, retryAfterMs });
  const network = (code: string, connected: boolean): AttemptFailure => ({ kind: 'network', code, connected });
  const timeout = (connected: boolean): AttemptFailure => ({ kind: 'timeout', connected });
  const retries = (failure: AttemptFailure, idempotent: boolean) =>
    shouldRetry({ failure, attempt: 1, idempotent }).retry;

  it('429 and 503 are retried for any method (declined before doing anything)', () => {
    for (const s of [429, 503]) {
      expect(retries(status(s), false)).toBe(true);
      expect(retries(status(s), true)).toBe(true);
    }
  });

  it('500, 502 and 504 are retried only when idempotent', () => {
    for (const s of [500, 502, 504]) {
      expect(retries(status(s), true)).toBe(true);
      expect(retries(status(s), false)).toBe(false);
    }
  });

  it('other statuses are never retried', () => {
    for (const s of [400, 401, 403, 404, 405, 406, 409, 422, 501]) {
      expect(retries(status(s), true)).toBe(false);
    }
  });

  it('errors before a connection existed are retried for any method', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']) {
      expect(retries(network(code, false), false)).toBe(true);
    }
    expect(retries(network('ECONNABORTED', false), false)).toBe(true);
    expect(retries(timeout(false), false)).toBe(true);
  });

  it('broken connections and timeouts after connect are retried only when idempotent', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'ECONNABORTED']) {
      expect(retries(network(code, true), true)).toBe(true);
      expect(retries(network(code, true), false)).toBe(false);
    }
    expect(retries(timeout(true), true)).toBe(true);
    expect(retries(timeout(true), false)).toBe(false);
  });

  it('TLS / unknown errors are not retried', () => {
    expect(retries(network('CERT_HAS_EXPIRED', true), true)).toBe(false);
    expect(retries(network('ERR_INVALID_CHAR', false), true)).toBe(false);
  });

  it('stops after maxRetries (default 2 → 3 attempts)', () => {
    const f = status(503);
    expect(shouldRetry({ failure: f, attempt: 2, idempotent: true }).retry).toBe(true);
    expect(shouldRetry({ failure: f, attempt: 3, idempotent: true })).toEqual({ retry: false, reason: 'exhausted' });
    expect(shouldRetry({ failure: f, attempt: 1, idempotent: true, maxRetries: 0 }).retry).toBe(false);
  });

  it('does not wait out a Retry-After above maxRetryAfterMs (default 30 s)', () => {
    expect(shouldRetry({ failure: status(429, 30_000), attempt: 1, idempotent: false }).retry).toBe(true);
    expect(shouldRetry({ failure: status(429, 30_001), attempt: 1, idempotent: false })).toEqual({
      retry: false,
      reason: 'retry_after_too_long',
    });
    expect(shouldRetry({ failure: status(429, 5000), attempt: 1, idempotent: false, maxRetryAfterMs: 1000 }).retry).toBe(
      false,
    );
  });

  it('isRetryableFailure ignores attempt counts and caps', () => {
    expect(isRetryableFailure(status(429, 999_999), false)).toBe(true);
    expect(isRetryableFailure(status(400), true)).toBe(false);
  });
});

describe('isOutcomeUnknown', () => {
  it('only for non-idempotent requests that may have reached the provider', () => {
    expect(isOutcomeUnknown({ kind: 'timeout', connected: true }, false)).toBe(true);
    expect(isOutcomeUnknown({ kind: 'timeout', connected: false }, false)).toBe(false);
    expect(isOutcomeUnknown({ kind: 'timeout', connected: true }, true)).toBe(false);
    expect(isOutcomeUnknown({ kind: 'network', code: 'ECONNRESET', connected: true }, false)).toBe(true);
    expect(isOutcomeUnknown({ kind: 'network', code: 'ECONNREFUSED', connected: false }, false)).toBe(false);
    expect(isOutcomeUnknown({ kind: 'status', status: 502 }, false)).toBe(false);
  });
});

describe('retryDelay', () => {
  it('uses Retry-After when given, backoff otherwise', () => {
    expect(retryDelay({ kind: 'status', status: 429, retryAfterMs: 3000 }, 1, () => 0)).toBe(3000);
    expect(retryDelay({ kind: 'status', status: 503 }, 2, () => 1)).toBe(1000);
    expect(retryDelay({ kind: 'timeout', connected: true }, 1, () => 0)).toBe(250);
  });
});

describe('mayHaveBeenProcessed', () => {
  it('is true where the provider may have acted (500/502/504, a sent request that timed out or broke)', () => {
    const yes: AttemptFailure[] = [
      { kind: 'status', status: 500 },
      { kind: 'status', status: 502 },
      { kind: 'status', status: 504 },
      { kind: 'timeout', connected: true },
      { kind: 'network', code: 'ECONNRESET', connected: true },
    ];
    const no: AttemptFailure[] = [
      { kind: 'status', status: 503 },
      { kind: 'status', status: 429 },
      { kind: 'status', status: 400 },
      { kind: 'timeout', connected: false },
      { kind: 'network', code: 'ECONNREFUSED', connected: false },
      { kind: 'network', code: 'ECONNRESET', connected: false },
    ];
    expect(yes.map(mayHaveBeenProcessed)).toEqual(yes.map(() => true));
    expect(no.map(mayHaveBeenProcessed)).toEqual(no.map(() => false));
  });
});
