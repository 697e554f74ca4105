import { STATUS_CODES } from 'node:http';
import { FulfilmentError } from '../fulfilment-error.js';
import { mayHaveBeenProcessed, type AttemptFailure } from './retry-policy.js';

/** The fulfilment providers this library talks to. */
export type ProviderName = 'caryrx' | 'scriptdrop';

/** Machine-readable kind of a provider failure (stable: callers switch on it). */
export type ProviderErrorCode =
  | 'validation'
  | 'auth'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'unavailable'
  | 'request'
  | 'timeout'
  | 'network'
  | 'invalid_response';

const DISPLAY_NAMES: Record<ProviderName, string> = {
  caryrx: 'CaryRx',
  scriptdrop: 'ScriptDrop',
};

/** Longest provider message kept on an error (bodies can be whole HTML pages or stack traces). */
export const MAX_PROVIDER_MESSAGE_LENGTH = 500;

export function providerDisplayName(provider: ProviderName): string {
  return DISPLAY_NAMES[provider] ?? provider;
}

export interface ProviderErrorInit {
  provider: ProviderName;
  method: string;
  /** Request path WITHOUT its query string (query values may identify a patient). */
  path: string;
  status?: number;
  providerMessage?: string;
  attempts: number;
  retryable: boolean;
  requestId?: string;
  /** The failures of the attempts before the last one, oldest first (retried ones). */
  earlierFailures?: readonly AttemptFailure[];
}

/**
 * Base of every failure of a provider call (itself a FulfilmentError, the one root of the module's
 * errors). Only safe fields live on it: no headers, no request body, no axios config (which would
 * carry the API key) — so logging or serialising the error can never leak a credential or patient
 * data we sent. `providerMessage` is scrubbed of our credentials and of the values we sent.
 */
export class ProviderError extends FulfilmentError {
  readonly provider: ProviderName;
  readonly code: ProviderErrorCode = 'request';
  readonly status: number | undefined;
  /** The provider's own explanation, taken from the response body (truncated). */
  readonly providerMessage: string | undefined;
  /** How many HTTP attempts were made before giving up. */
  readonly attempts: number;
  /** True when the same call could succeed later AND is safe to repeat. */
  readonly retryable: boolean;
  readonly method: string;
  readonly path: string;
  /** The provider's `x-request-id`, for support tickets. */
  readonly requestId: string | undefined;
  /** The failures of the attempts before the last one, oldest first: statuses and transport kinds only. */
  readonly earlierFailures: readonly AttemptFailure[];

  constructor(message: string, init: ProviderErrorInit, options?: { cause?: unknown }) {
    super(message, options);
    this.provider = init.provider;
    this.status = init.status;
    this.providerMessage = init.providerMessage;
    this.attempts = init.attempts;
    this.retryable = init.retryable;
    this.method = init.method.toUpperCase();
    this.path = stripQuery(init.path);
    this.requestId = init.requestId;
    this.earlierFailures = init.earlierFailures ?? [];
  }

  /**
   * True when an attempt before the last may have been acted on (see mayHaveBeenProcessed): the
   * last answer may then describe the effect of that attempt rather than a refusal of the call.
   */
  get earlierAttemptMayHaveSucceeded(): boolean {
    return this.earlierFailures.some(mayHaveBeenProcessed);
  }

  /** Structured loggers call this: the same safe fields, nothing more. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      provider: this.provider,
      status: this.status,
      providerMessage: this.providerMessage,
      attempts: this.attempts,
      retryable: this.retryable,
      method: this.method,
      path: this.path,
      requestId: this.requestId,
    };
  }
}

/** 400 / 422: the provider rejected what we sent; repeating it unchanged cannot help. */
export class ProviderValidationError extends ProviderError {
  override readonly code = 'validation' as const;
}

/** 401 / 403: bad or missing credentials, or the account may not do this. */
export class ProviderAuthError extends ProviderError {
  override readonly code = 'auth' as const;
}

/** 404 */
export class ProviderNotFoundError extends ProviderError {
  override readonly code = 'not_found' as const;
}

/**
 * 409: the resource is in a state that does not allow this (e.g. already shipped). 405 and 406 are
 * not: they say the route or the format is wrong (ScriptDrop's error table), whatever the order's state.
 */
export class ProviderConflictError extends ProviderError {
  override readonly code = 'conflict' as const;
}

/** Any other 4xx, 405 (method not allowed) and 406 (format not acceptable) included. */
export class ProviderRequestError extends ProviderError {
  override readonly code = 'request' as const;
}

/** A failure the provider may have answered with `Retry-After` (429, 503): how long it asked us to wait. */
export abstract class ProviderRetryAfterError extends ProviderError {
  readonly retryAfterMs: number | undefined;

  constructor(message: string, init: ProviderErrorInit & { retryAfterMs?: number }) {
    super(message, init);
    this.retryAfterMs = init.retryAfterMs;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), retryAfterMs: this.retryAfterMs };
  }
}

/**
 * 429. `retryAfterMs` is what the provider asked us to wait; a caller such as a scheduler can pause
 * all calls to this provider for that long instead of hammering it.
 */
export class ProviderRateLimitError extends ProviderRetryAfterError {
  override readonly code = 'rate_limited' as const;
}

/** 5xx. `retryAfterMs` is set when a 503 carried a Retry-After. */
export class ProviderUnavailableError extends ProviderRetryAfterError {
  override readonly code = 'unavailable' as const;
}

/**
 * No answer within the timeout. `outcomeUnknown` is true when the request reached the provider and
 * was not safe to repeat (e.g. a POST that creates an order): the provider may have acted on it, so
 * the caller must record the outcome as unknown and reconcile later rather than send it again.
 */
export class ProviderTimeoutError extends ProviderError {
  override readonly code = 'timeout' as const;
  readonly outcomeUnknown: boolean;
  readonly timeoutMs: number | undefined;

  constructor(
    message: string,
    init: ProviderErrorInit & { outcomeUnknown: boolean; timeoutMs?: number },
  ) {
    super(message, init);
    this.outcomeUnknown = init.outcomeUnknown;
    this.timeoutMs = init.timeoutMs;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), outcomeUnknown: this.outcomeUnknown, timeoutMs: this.timeoutMs };
  }
}

/**
 * The connection failed (refused, DNS, reset...). `causeCode` is the system code, e.g.
 * `ECONNREFUSED`; `error.cause` is `{ code }` only (never the axios error, which holds our headers).
 * `outcomeUnknown` as for timeouts: the connection broke after a non-repeatable request was sent.
 */
export class ProviderNetworkError extends ProviderError {
  override readonly code = 'network' as const;
  readonly causeCode: string;
  readonly outcomeUnknown: boolean;

  constructor(
    message: string,
    init: ProviderErrorInit & { causeCode: string; outcomeUnknown: boolean },
  ) {
    super(message, init, { cause: { code: init.causeCode } });
    this.causeCode = init.causeCode;
    this.outcomeUnknown = init.outcomeUnknown;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), causeCode: this.causeCode, outcomeUnknown: this.outcomeUnknown };
  }
}

/** A 2xx whose body is not what the provider promised (e.g. malformed JSON from a proxy). */
export class ProviderInvalidResponseError extends ProviderError {
  override readonly code = 'invalid_response' as const;
}

// ---------------------------------------------------------------------------------------------

export function stripQuery(path: string): string {
  const cut = path.search(/[?#]/);
  return cut === -1 ? path : path.slice(0, cut);
}

function truncate(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_PROVIDER_MESSAGE_LENGTH
    ? `${oneLine.slice(0, MAX_PROVIDER_MESSAGE_LENGTH - 1)}…`
    : oneLine;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function messageOfItem(item: unknown): string | undefined {
  if (typeof item === 'string') return item;
  if (isRecord(item)) {
    for (const key of ['message', 'detail', 'msg', 'title', 'error']) {
      const value = item[key];
      if (typeof value === 'string' && value.trim()) {
        const field = typeof item.field === 'string' ? item.field : undefined;
        return field && !value.includes(field) ? `${field}: ${value}` : value;
      }
    }
  }
  return undefined;
}

/**
 * The provider's own message from an error body. Recognised shapes:
 * `{"error":{"message":"..."}}` (ScriptDrop), `{"error":"..."}`, `{"message":"..."}`,
 * `{"errors":["..." | {message}]}`, `{"errors":{"field":["..."]}}`, or a short plain-text body.
 * HTML error pages (from proxies / load balancers) are ignored. Truncated to 500 characters.
 */
export function extractProviderMessage(body: unknown): string | undefined {
  let text: string | undefined;
  if (typeof body === 'string') {
    const trimmed = body.trim();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        return extractProviderMessage(JSON.parse(trimmed));
      } catch {
        // Not JSON after all: treat as plain text below.
      }
    }
    if (trimmed && !/^<(!doctype|html|\?xml)/i.test(trimmed)) text = trimmed;
  } else if (isRecord(body)) {
    const { error, message, errors } = body;
    if (isRecord(error)) text = messageOfItem(error);
    else if (typeof error === 'string' && error.trim()) text = error;
    if (!text && typeof message === 'string' && message.trim()) text = message;
    if (!text && Array.isArray(errors)) {
      const parts = errors.map(messageOfItem).filter((m): m is string => !!m);
      if (parts.length) text = parts.join('; ');
    } else if (!text && isRecord(errors)) {
      const parts = Object.entries(errors).map(([field, value]) => {
        const list = Array.isArray(value) ? value : [value];
        const msgs = list.map(messageOfItem).filter((m): m is string => !!m);
        return msgs.length ? `${field}: ${msgs.join(', ')}` : undefined;
      });
      const kept = parts.filter((p): p is string => !!p);
      if (kept.length) text = kept.join('; ');
    }
  } else if (Array.isArray(body)) {
    const parts = body.map(messageOfItem).filter((m): m is string => !!m);
    if (parts.length) text = parts.join('; ');
  }
  return text ? truncate(text) : undefined;
}

/**
 * Removes known secret strings (our credentials) from text that came back from the provider: some
 * APIs echo the rejected key in their 401 message, and that text ends up in logs via `message`.
 */
export function redactSecrets(text: string | undefined, secrets: readonly string[]): string | undefined {
  if (text === undefined) return undefined;
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[REDACTED]');
  }
  return out;
}

/** Shortest sent value that is scrubbed: shorter ones (state codes, flags) would blank out words. */
const MIN_SENT_VALUE_LENGTH = 3;

/**
 * Every string (and long number) in a request body we sent: names, dates of birth, phones and
 * addresses live there. Iterative, as bodies are nested but their depth is bounded by validation.
 */
export function sentValues(body: unknown): string[] {
  const values = new Set<string>();
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string' && value.trim().length >= MIN_SENT_VALUE_LENGTH) values.add(value.trim());
    else if (typeof value === 'number' && Number.isFinite(value) && String(value).length >= 4) values.add(String(value));
    else if (typeof value === 'object' && value !== null) stack.push(...Object.values(value));
  }
  // Longest first, so a street is scrubbed whole before a shorter value inside it.
  return [...values].sort((a, b) => b.length - a.length);
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Removes the values we sent from a provider's message: a provider may quote the field it refused
 * ("recipient Jane Doe at 1 Main St is outside the delivery area"), and the message reaches logs,
 * the stored `lastError` and, for refusals, the host's client. Whole words only, so a short name
 * does not blank out the words that merely contain it.
 */
export function redactSentValues(text: string | undefined, values: readonly string[]): string | undefined {
  if (text === undefined || values.length === 0) return text;
  let out = text;
  for (const value of values) {
    out = out.replace(new RegExp(`(?<![\\p{L}\\p{N}])${escapeRegExp(value)}(?![\\p{L}\\p{N}])`, 'giu'), '[REDACTED]');
  }
  return out;
}

function prefix(provider: ProviderName, method: string, path: string): string {
  return `${providerDisplayName(provider)} ${method.toUpperCase()} ${stripQuery(path)} failed`;
}

function attemptsSuffix(attempts: number): string {
  return attempts > 1 ? ` (after ${attempts} attempts)` : '';
}

export interface ProviderResponseErrorInput {
  provider: ProviderName;
  method: string;
  path: string;
  status: number;
  statusText?: string;
  /** Parsed JSON or raw text of the response body. */
  body?: unknown;
  /** Response headers, lower-cased names (only `x-request-id` is read). */
  headers?: Record<string, string | undefined>;
  attempts: number;
  /** See {@link ProviderError.retryable}; the HTTP client computes it from the retry policy. */
  retryable: boolean;
  /** Parsed Retry-After, kept on 429 / 5xx errors. */
  retryAfterMs?: number;
  /** Strings to scrub from the provider's message (our credentials). */
  redact?: readonly string[];
  /** What we sent (body and query): its values are scrubbed from the provider's message (see redactSentValues). */
  sent?: unknown;
  earlierFailures?: readonly AttemptFailure[];
}

/**
 * The ONE place a non-2xx status becomes a typed error:
 * 400/422 → Validation, 401/403 → Auth, 404 → NotFound, 409 → Conflict,
 * 429 → RateLimit, 5xx → Unavailable, any other status (405/406 included) → Request.
 */
export function providerErrorFromResponse(input: ProviderResponseErrorInput): ProviderError {
  const { status } = input;
  const providerMessage = redactSentValues(redactSecrets(extractProviderMessage(input.body), input.redact ?? []), sentValues(input.sent));
  const statusText = (input.statusText?.trim() || STATUS_CODES[status] || '').trim();
  const message =
    `${prefix(input.provider, input.method, input.path)}: ${status}${statusText ? ` ${statusText}` : ''}` +
    `${providerMessage ? `: ${providerMessage}` : ''}${attemptsSuffix(input.attempts)}`;
  const init = {
    provider: input.provider,
    method: input.method,
    path: input.path,
    status,
    providerMessage,
    attempts: input.attempts,
    retryable: input.retryable,
    requestId: input.headers?.['x-request-id'] || undefined,
    earlierFailures: input.earlierFailures,
  };

  if (status === 400 || status === 422) return new ProviderValidationError(message, init);
  if (status === 401 || status === 403) return new ProviderAuthError(message, init);
  if (status === 404) return new ProviderNotFoundError(message, init);
  if (status === 409) return new ProviderConflictError(message, init);
  if (status === 429) return new ProviderRateLimitError(message, { ...init, retryAfterMs: input.retryAfterMs });
  if (status >= 500) return new ProviderUnavailableError(message, { ...init, retryAfterMs: input.retryAfterMs });
  return new ProviderRequestError(message, init);
}

export interface ProviderTransportErrorInput {
  provider: ProviderName;
  method: string;
  path: string;
  attempts: number;
  retryable: boolean;
  outcomeUnknown: boolean;
  earlierFailures?: readonly AttemptFailure[];
}

export function providerTimeoutError(
  input: ProviderTransportErrorInput & { timeoutMs?: number },
): ProviderTimeoutError {
  const after = input.timeoutMs !== undefined ? ` after ${input.timeoutMs}ms` : '';
  const unknown = input.outcomeUnknown ? '; the provider may have processed it (outcome unknown)' : '';
  return new ProviderTimeoutError(
    `${prefix(input.provider, input.method, input.path)}: timed out${after}${unknown}${attemptsSuffix(input.attempts)}`,
    input,
  );
}

export function providerNetworkError(
  input: ProviderTransportErrorInput & { causeCode: string },
): ProviderNetworkError {
  const unknown = input.outcomeUnknown ? '; the provider may have processed it (outcome unknown)' : '';
  return new ProviderNetworkError(
    `${prefix(input.provider, input.method, input.path)}: network error ${input.causeCode}${unknown}${attemptsSuffix(input.attempts)}`,
    input,
  );
}

export function providerInvalidResponseError(
  input: Omit<ProviderTransportErrorInput, 'outcomeUnknown'> & { status: number; reason: string },
): ProviderInvalidResponseError {
  return new ProviderInvalidResponseError(
    `${prefix(input.provider, input.method, input.path)}: ${input.status} with an invalid body (${input.reason})`,
    input,
  );
}
