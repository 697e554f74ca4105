/**
 * When a provider call may be repeated, and how long to wait first. Pure functions: no I/O, no
 * clock, no randomness of their own (callers pass `now` and `random`), so every rule is unit-tested.
 *
 * The one question behind every rule: could the provider already have acted on the request?
 * - It certainly did not when the connection was never established, or when it answered 429/503
 *   (it declined before doing the work) → repeat any method, even a POST that creates an order.
 * - It may have for 500/502/504, a reset connection or a timeout → repeat only requests that are
 *   safe to do twice (idempotent). A repeated create could make a second order or courier run.
 */

export const DEFAULT_MAX_RETRIES = 2;
export const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;
export const DEFAULT_BACKOFF_BASE_MS = 500;
export const DEFAULT_BACKOFF_MAX_MS = 5_000;

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'DELETE', 'PUT', 'OPTIONS']);

/**
 * GET/HEAD/DELETE/PUT are idempotent by HTTP semantics. POST and PATCH are only when the caller
 * says so (e.g. the provider dedupes on an idempotency key or an external id we send).
 * An explicit `override` wins either way.
 */
export function isIdempotent(method: string, override?: boolean): boolean {
  if (override !== undefined) return override;
  return IDEMPOTENT_METHODS.has(method.toUpperCase());
}

/** Errors raised before a connection existed: nothing was sent, repeating is always safe. */
const NEVER_CONNECTED_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Errors of a connection that broke mid-exchange: the request may have been received. */
const BROKEN_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

/** Statuses where the server declined before doing anything. */
const DECLINED_STATUSES = new Set([429, 503]);

/** Statuses where the server (or a gateway in front of it) may have done the work. */
const MAYBE_PROCESSED_STATUSES = new Set([500, 502, 504]);

/**
 * Seconds (`Retry-After: 3`) or an HTTP date (`Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`) → ms
 * from `now`. A date in the past gives 0. Anything else (negative, fractional, garbage) → undefined.
 */
export function parseRetryAfter(
  headerValue: string | string[] | null | undefined,
  now: number,
): number | undefined {
  const raw = Array.isArray(headerValue) ? headerValue[0] : headerValue;
  if (raw === undefined || raw === null) return undefined;
  const value = String(raw).trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) {
    const seconds = Number(value);
    return Number.isSafeInteger(seconds * 1000) ? seconds * 1000 : undefined;
  }
  // An HTTP date always names a month/day; this also stops Date.parse from accepting "-1" or "1.5".
  if (!/[a-z]/i.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
}

/**
 * Exponential backoff with jitter: the ceiling is `min(base * 2^(attempt-1), max)` and the delay a
 * random point between 50% and 100% of it, so many clients that failed together do not all come
 * back at the same instant. `attempt` is the 1-based number of the attempt that just failed.
 */
export function backoffDelay(
  attempt: number,
  random: () => number,
  { baseMs = DEFAULT_BACKOFF_BASE_MS, maxMs = DEFAULT_BACKOFF_MAX_MS }: BackoffOptions = {},
): number {
  const n = Math.max(1, Math.floor(attempt));
  const ceiling = Math.min(baseMs * 2 ** (n - 1), maxMs);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}

/** What went wrong on one attempt: either an HTTP status, or a transport failure. */
export type AttemptFailure =
  | { kind: 'status'; status: number; retryAfterMs?: number }
  | { kind: 'timeout'; connected: boolean }
  | { kind: 'network'; code: string; connected: boolean };

/**
 * Whether this failure is transient AND repeating the request is safe, regardless of how many
 * attempts are left. This is what `ProviderError.retryable` reports to callers.
 */
export function isRetryableFailure(failure: AttemptFailure, idempotent: boolean): boolean {
  switch (failure.kind) {
    case 'status':
      if (DECLINED_STATUSES.has(failure.status)) return true;
      if (MAYBE_PROCESSED_STATUSES.has(failure.status)) return idempotent;
      return false;
    case 'timeout':
      // A timeout before the connection was up means nothing was sent.
      return !failure.connected || idempotent;
    case 'network':
      if (NEVER_CONNECTED_CODES.has(failure.code)) return true;
      // A reset/abort while still connecting: nothing was sent yet.
      if (BROKEN_CONNECTION_CODES.has(failure.code)) return !failure.connected || idempotent;
      // TLS/certificate, protocol and invalid-request errors do not fix themselves on a retry.
      return false;
  }
}

/**
 * True when the request may have reached the provider, may have been acted on, and we will not
 * find out by repeating it: the caller must record the outcome as unknown and reconcile.
 */
export function isOutcomeUnknown(failure: AttemptFailure, idempotent: boolean): boolean {
  if (idempotent || failure.kind === 'status') return false;
  if (failure.kind === 'timeout') return failure.connected;
  return failure.connected && BROKEN_CONNECTION_CODES.has(failure.code);
}

/**
 * True when the provider may have acted on the request although the attempt failed (500/502/504, a
 * timeout or a broken connection after it was sent): a later attempt's refusal may be the answer to
 * that earlier success (a repeated DELETE meeting its own cancellation).
 */
export function mayHaveBeenProcessed(failure: AttemptFailure): boolean {
  switch (failure.kind) {
    case 'status':
      return MAYBE_PROCESSED_STATUSES.has(failure.status);
    case 'timeout':
      return failure.connected;
    case 'network':
      return failure.connected && BROKEN_CONNECTION_CODES.has(failure.code);
  }
}

export interface RetryContext {
  failure: AttemptFailure;
  /** 1-based number of the attempt that just failed. */
  attempt: number;
  idempotent: boolean;
  maxRetries?: number;
  maxRetryAfterMs?: number;
}

export type RetryDecision =
  | { retry: true; reason: string }
  | { retry: false; reason: 'not_retryable' | 'exhausted' | 'retry_after_too_long' };

/**
 * The rule book: 429/503 → any method; 500/502/504, resets and timeouts → idempotent only;
 * never-connected errors → any method; at most `maxRetries` retries; and a Retry-After longer than
 * `maxRetryAfterMs` is not waited out in-process (the error carries it so a scheduler can pause).
 */
export function shouldRetry({
  failure,
  attempt,
  idempotent,
  maxRetries = DEFAULT_MAX_RETRIES,
  maxRetryAfterMs = DEFAULT_MAX_RETRY_AFTER_MS,
}: RetryContext): RetryDecision {
  if (!isRetryableFailure(failure, idempotent)) return { retry: false, reason: 'not_retryable' };
  if (attempt > maxRetries) return { retry: false, reason: 'exhausted' };
  if (
    failure.kind === 'status' &&
    failure.retryAfterMs !== undefined &&
    failure.retryAfterMs > maxRetryAfterMs
  ) {
    return { retry: false, reason: 'retry_after_too_long' };
  }
  const what =
    failure.kind === 'status' ? String(failure.status) : failure.kind === 'timeout' ? 'timeout' : failure.code;
  return { retry: true, reason: what };
}

/**
 * How long to wait before the next attempt: the provider's Retry-After when it gave one (already
 * checked against the cap by {@link shouldRetry}), otherwise {@link backoffDelay}.
 */
export function retryDelay(
  failure: AttemptFailure,
  attempt: number,
  random: () => number,
  backoff?: BackoffOptions,
): number {
  if (failure.kind === 'status' && failure.retryAfterMs !== undefined) return failure.retryAfterMs;
  return backoffDelay(attempt, random, backoff);
}
