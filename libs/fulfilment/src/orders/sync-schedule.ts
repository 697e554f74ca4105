import { isTerminal, type FulfilmentStatus } from './order-state-machine.js';

/**
 * When the status sync should next read an order. Recently changed orders are read again soon,
 * quiet ones less often, failing ones back off, terminal ones never.
 */
export interface SyncScheduleInput {
  status: FulfilmentStatus;
  /** The status (or provider status) changed in this observation. */
  changed: boolean;
  /** Time since the order's last change, ms. */
  quietForMs: number;
  /** Consecutive failed reads of this order. */
  failures: number;
}

/** A failing order waits at most this many intervals between reads. */
export const MAX_FAILURE_BACKOFF_INTERVALS = 32;
/** A quiet order waits at most this many intervals between reads. */
export const MAX_QUIET_INTERVALS = 8;
/** Each this long without a change adds one interval to a quiet order's wait. */
export const QUIET_STEP_MS = 10 * 60_000;

export function nextSyncAt(input: SyncScheduleInput, now: Date, intervalMs: number): Date | null {
  if (isTerminal(input.status)) return null;
  let delay: number;
  if (input.failures > 0) {
    // Back off: interval × 2^failures, at most 32 intervals.
    delay = intervalMs * Math.min(MAX_FAILURE_BACKOFF_INTERVALS, 2 ** Math.min(input.failures, 30));
  } else if (input.changed) {
    delay = intervalMs;
  } else {
    // Quiet orders: one interval more per ~10 minutes of quiet, capped at 8 intervals.
    delay = intervalMs * Math.min(MAX_QUIET_INTERVALS, 1 + Math.floor(Math.max(0, input.quietForMs) / QUIET_STEP_MS));
  }
  return new Date(now.getTime() + delay);
}

/**
 * How long to stop calling a provider that answered 429 (after the HTTP client's own retries):
 * its Retry-After when it sent one (ScriptDrop documents none), otherwise a backoff that doubles
 * with each consecutive rate-limited tick, from one interval up to 32 intervals.
 */
export function rateLimitPauseMs(retryAfterMs: number | undefined, consecutive: number, intervalMs: number): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0) return retryAfterMs;
  const n = Math.max(1, Math.min(consecutive, 30));
  return intervalMs * Math.min(MAX_FAILURE_BACKOFF_INTERVALS, 2 ** (n - 1));
}
