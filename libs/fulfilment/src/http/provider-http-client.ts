import http from 'node:http';
import https from 'node:https';
import { Logger, type LoggerService } from '@nestjs/common';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import {
  type ProviderName,
  providerErrorFromResponse,
  providerInvalidResponseError,
  providerNetworkError,
  providerTimeoutError,
  stripQuery,
} from './provider-errors.js';
import {
  type AttemptFailure,
  type BackoffOptions,
  DEFAULT_MAX_RETRIES,
  DEFAULT_MAX_RETRY_AFTER_MS,
  isIdempotent,
  isOutcomeUnknown,
  isRetryableFailure,
  parseRetryAfter,
  retryDelay,
  shouldRetry,
} from './retry-policy.js';

export type ProviderHttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type ProviderHttpLogger = Pick<LoggerService, 'log' | 'warn' | 'debug' | 'error'>;

/**
 * Told about every HTTP attempt a client makes (the module's metrics). Called synchronously on the
 * request path: it must be cheap and must not throw.
 */
export interface ProviderCallObserver {
  providerAttempt(attempt: ProviderAttemptRecord): void;
}

export interface ProviderAttemptRecord {
  provider: ProviderName;
  /** The request's `operation`, e.g. `get_order`: a fixed name, never an id. */
  operation: string;
  /** The HTTP status as a string (`200`, `429`), `timeout` or `network_error`. */
  outcome: string;
  /** 1 for the first attempt; more is a retry. */
  attempt: number;
  /** Wall-clock time of this attempt, until its answer was read. */
  seconds: number;
}

export type ProviderQueryValue = string | number | Array<string | number> | undefined;
export type ProviderQuery = Record<string, ProviderQueryValue>;

export interface ProviderHttpClientConfig {
  provider: ProviderName;
  /** e.g. `https://api.example.com` (a path prefix such as `/api` is kept). */
  baseUrl: string;
  /**
   * Credentials, sent on every attempt and never logged. A function is called per attempt so a
   * rotated key is picked up without rebuilding the client.
   */
  authHeaders: (() => Record<string, string>) | Record<string, string>;
  /** Per attempt, wall-clock, until the whole response is read. Default 10 000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 2 (3 attempts). */
  maxRetries?: number;
  /** A Retry-After longer than this is not waited out: the error is thrown. Default 30 000. */
  maxRetryAfterMs?: number;
  logger?: ProviderHttpLogger;
  /** Injectable so tests never really wait. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  userAgent?: string;
  backoff?: BackoffOptions;
  /**
   * The axios instance to send through: the module passes the one of its provider's own
   * `HttpModule` registration. This client sets its defaults (base URL, agents, no redirects, raw
   * text), so give each client an instance of its own. Default: a new instance.
   */
  axios?: AxiosInstance;
  /** Told about every attempt (status, duration, retry); the module passes its metrics. */
  observer?: ProviderCallObserver;
}

export interface ProviderRequest {
  method: ProviderHttpMethod;
  /**
   * A fixed name of what the request does, e.g. `get_order` (a metrics label, so never an id).
   * Default: the method in lower case.
   */
  operation?: string;
  /** Starts with `/`; relative to `baseUrl`. Absolute URLs are refused (they would carry our key elsewhere). */
  path: string;
  /**
   * Appended to the path. Arrays use the bracket form the providers expect: `{ ids: [1, 2] }` →
   * `ids[]=1&ids[]=2` (a key already ending in `[]` is not doubled). `undefined` values and empty
   * arrays are omitted.
   */
  query?: ProviderQuery;
  /** Serialised as JSON. */
  body?: unknown;
  /** Mark a POST/PATCH as safe to repeat (e.g. the provider dedupes on an id we send). */
  idempotent?: boolean;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface ProviderResponse<T> {
  status: number;
  /** Parsed JSON; `undefined` for 204 / an empty body; a string for a non-JSON body. */
  data: T;
  attempts: number;
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
}

type AttemptResult =
  | { kind: 'response'; response: AxiosResponse<string> }
  | { kind: 'timeout'; connected: boolean }
  | { kind: 'network'; code: string; connected: boolean };

const DEFAULT_TIMEOUT_MS = 10_000;
/** Idle keep-alive sockets are closed before the common 5 s server keep-alive timeout, so we do
 * not write a request onto a socket the server is closing (which shows up as ECONNRESET). */
const FREE_SOCKET_TIMEOUT_MS = 4_000;
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => {
    setTimeout(resolve, ms);
  });

function encodeKey(key: string): string {
  // Brackets stay literal (`ids[]`), as the providers document them; everything else is encoded.
  return encodeURIComponent(key).replace(/%5B/gi, '[').replace(/%5D/gi, ']');
}

/** `{ status: 'open', ids: [1, 2] }` → `status=open&ids[]=1&ids[]=2`. */
export function serializeQuery(query: ProviderQuery | undefined): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      const arrayKey = encodeKey(key.endsWith('[]') ? key : `${key}[]`);
      for (const item of value) parts.push(`${arrayKey}=${encodeURIComponent(String(item))}`);
    } else {
      parts.push(`${encodeKey(key)}=${encodeURIComponent(String(value))}`);
    }
  }
  return parts.join('&');
}

/**
 * Every value we must never log or echo: the auth header values and, for Basic auth, the decoded
 * `key:secret` pair and its halves (a provider might quote the key it rejected).
 */
function secretsOf(authHeaders: Record<string, string>): string[] {
  const secrets: string[] = [];
  for (const value of Object.values(authHeaders)) {
    if (!value) continue;
    secrets.push(value);
    const [scheme, token] = value.split(/\s+/, 2);
    if (!token) continue;
    secrets.push(token);
    if (scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      secrets.push(decoded, ...decoded.split(':'));
    }
  }
  // Longest first, so a pair is redacted whole before its halves.
  return secrets.filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
}

function flattenHeaders(headers: AxiosResponse['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null || typeof value === 'function') continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

function looksLikeJson(contentType: string | undefined, text: string): boolean {
  if (contentType && /[/+]json\b/i.test(contentType)) return true;
  const first = text.trimStart()[0];
  return first === '{' || first === '[';
}

/**
 * The HTTP core shared by the CaryRx and ScriptDrop clients: one keep-alive axios instance per
 * provider, typed errors, retries only where repeating the request is safe, and one redacted log
 * line per attempt. Not a Nest provider: the module builds one per provider from its options.
 */
export class ProviderHttpClient {
  readonly provider: ProviderName;
  private readonly http: AxiosInstance;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly authHeaders: ProviderHttpClientConfig['authHeaders'];
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxRetryAfterMs: number;
  private readonly logger: ProviderHttpLogger;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly userAgent: string;
  private readonly backoff: BackoffOptions | undefined;
  private readonly observer: ProviderCallObserver | undefined;

  constructor(config: ProviderHttpClientConfig) {
    this.provider = config.provider;
    this.authHeaders = config.authHeaders;
    this.timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRetries = Math.max(0, config.maxRetries ?? DEFAULT_MAX_RETRIES);
    this.maxRetryAfterMs = config.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
    this.logger = config.logger ?? new Logger(`Fulfilment:${config.provider}`);
    this.sleep = config.sleep ?? defaultSleep;
    this.random = config.random ?? Math.random;
    this.now = config.now ?? Date.now;
    this.userAgent = config.userAgent ?? 'nestjs-fulfilment';
    this.backoff = config.backoff;
    this.observer = config.observer;

    const agentOptions = { keepAlive: true, maxSockets: 16, timeout: FREE_SOCKET_TIMEOUT_MS };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent(agentOptions);
    this.http = config.axios ?? axios.create();
    Object.assign(this.http.defaults, {
      baseURL: config.baseUrl,
      timeout: this.timeoutMs,
      // Every status comes back as a response: we classify it ourselves, and axios errors (which
      // carry the request config, i.e. our API key) never escape this class.
      validateStatus: () => true,
      // A redirect from a provider API is unexpected; following it could send the key elsewhere.
      maxRedirects: 0,
      allowAbsoluteUrls: false,
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      // Raw text in, JSON parsed here: error bodies can be plain text or HTML.
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      maxContentLength: MAX_RESPONSE_BYTES,
      transitional: { clarifyTimeoutError: true },
    });
  }

  get<T>(path: string, options: Omit<ProviderRequest, 'method' | 'path' | 'body'> = {}) {
    return this.request<T>({ ...options, method: 'GET', path });
  }

  post<T>(path: string, body?: unknown, options: Omit<ProviderRequest, 'method' | 'path' | 'body'> = {}) {
    return this.request<T>({ ...options, method: 'POST', path, body });
  }

  put<T>(path: string, body?: unknown, options: Omit<ProviderRequest, 'method' | 'path' | 'body'> = {}) {
    return this.request<T>({ ...options, method: 'PUT', path, body });
  }

  patch<T>(path: string, body?: unknown, options: Omit<ProviderRequest, 'method' | 'path' | 'body'> = {}) {
    return this.request<T>({ ...options, method: 'PATCH', path, body });
  }

  delete<T>(path: string, options: Omit<ProviderRequest, 'method' | 'path'> = {}) {
    return this.request<T>({ ...options, method: 'DELETE', path });
  }

  /** Closes pooled keep-alive sockets (module shutdown, tests). */
  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  async request<T>(req: ProviderRequest): Promise<ProviderResponse<T>> {
    if (!req.path.startsWith('/') || req.path.startsWith('//')) {
      // The path is not echoed: an absolute URL could carry user:password.
      throw new TypeError('Provider request path must be relative to baseUrl and start with a single "/"');
    }
    const method = req.method.toUpperCase() as ProviderHttpMethod;
    const logPath = stripQuery(req.path);
    const query = serializeQuery(req.query);
    const url = query ? `${req.path}${req.path.includes('?') ? '&' : '?'}${query}` : req.path;
    const idempotent = isIdempotent(method, req.idempotent);
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const body = req.body === undefined ? undefined : JSON.stringify(req.body);
    const totalAttempts = this.maxRetries + 1;
    const errorBase = { provider: this.provider, method, path: logPath };
    const operation = req.operation ?? method.toLowerCase();
    // Kept on the error: a caller can tell a refusal from the echo of an earlier attempt's success.
    const earlierFailures: AttemptFailure[] = [];

    for (let attempt = 1; ; attempt++) {
      const auth = typeof this.authHeaders === 'function' ? this.authHeaders() : this.authHeaders;
      const headers: Record<string, string> = {
        Accept: 'application/json',
        'User-Agent': this.userAgent,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...req.headers,
        // Last, so a per-request header can never replace the credentials by accident.
        ...auth,
      };

      const started = this.now();
      const result = await this.send(method, url, body, headers, timeoutMs);
      const elapsedExact = Math.max(0, this.now() - started);
      const elapsed = Math.round(elapsedExact);
      this.observer?.providerAttempt({
        provider: this.provider,
        operation,
        outcome: result.kind === 'response' ? String(result.response.status) : result.kind === 'timeout' ? 'timeout' : 'network_error',
        attempt,
        seconds: elapsedExact / 1000,
      });
      const line = (outcome: string, extra = '') =>
        `${method} ${logPath} -> ${outcome} in ${elapsed}ms (attempt ${attempt}/${totalAttempts})${extra}`;

      let failure: AttemptFailure;
      let outcome: string;
      if (result.kind === 'response') {
        const { response } = result;
        const status = response.status;
        const resHeaders = flattenHeaders(response.headers);
        if (status >= 200 && status < 300) {
          this.logger.debug?.(line(String(status)));
          const text = typeof response.data === 'string' ? response.data : '';
          if (status === 204 || text.trim() === '') {
            return { status, data: undefined as T, attempts: attempt, headers: resHeaders };
          }
          if (looksLikeJson(resHeaders['content-type'], text)) {
            try {
              return { status, data: JSON.parse(text) as T, attempts: attempt, headers: resHeaders };
            } catch {
              // The provider said it succeeded but we cannot read what it returned: not retried,
              // since the call took effect.
              throw providerInvalidResponseError({
                ...errorBase,
                status,
                attempts: attempt,
                retryable: false,
                reason: 'malformed JSON',
              });
            }
          }
          return { status, data: text as T, attempts: attempt, headers: resHeaders };
        }

        const retryAfterMs =
          status === 429 || status === 503
            ? parseRetryAfter(resHeaders['retry-after'], this.now())
            : undefined;
        failure = { kind: 'status', status, retryAfterMs };
        outcome = String(status);

        const decision = shouldRetry({
          failure,
          attempt,
          idempotent,
          maxRetries: this.maxRetries,
          maxRetryAfterMs: this.maxRetryAfterMs,
        });
        if (!decision.retry) {
          const why =
            decision.reason === 'retry_after_too_long' ? ` (Retry-After ${retryAfterMs}ms exceeds cap)` : '';
          this.logger.warn(line(outcome, why));
          throw providerErrorFromResponse({
            ...errorBase,
            status,
            statusText: response.statusText,
            body: parseBodyLoosely(response.data, resHeaders['content-type']),
            headers: resHeaders,
            attempts: attempt,
            retryable: isRetryableFailure(failure, idempotent),
            retryAfterMs,
            redact: secretsOf(auth),
            // Query values too: delivery information sends the delivery address there.
            sent: [req.body, req.query],
            earlierFailures,
          });
        }
      } else {
        failure =
          result.kind === 'timeout'
            ? { kind: 'timeout', connected: result.connected }
            : { kind: 'network', code: result.code, connected: result.connected };
        outcome = result.kind === 'timeout' ? 'timeout' : result.code;

        const decision = shouldRetry({ failure, attempt, idempotent, maxRetries: this.maxRetries });
        if (!decision.retry) {
          this.logger.warn(line(outcome));
          const common = {
            ...errorBase,
            attempts: attempt,
            retryable: isRetryableFailure(failure, idempotent),
            // A POST whose connection broke after it was sent may have created something; we do
            // not repeat it, and the caller records the outcome as unknown and reconciles later.
            outcomeUnknown: isOutcomeUnknown(failure, idempotent),
            earlierFailures,
          };
          throw result.kind === 'timeout'
            ? providerTimeoutError({ ...common, timeoutMs })
            : providerNetworkError({ ...common, causeCode: result.code });
        }
      }

      earlierFailures.push(failure);
      const delay = retryDelay(failure, attempt, this.random, this.backoff);
      this.logger.warn(line(outcome, `; retrying in ${delay}ms`));
      await this.sleep(delay);
    }
  }

  /** One HTTP exchange. Never throws: every failure becomes an AttemptResult. */
  private async send(
    method: ProviderHttpMethod,
    url: string,
    body: string | undefined,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<AttemptResult> {
    // Whether TCP connected decides if a failed non-idempotent request may have reached the
    // provider. Tracked through a thin transport wrapper, per attempt (pooled sockets that are
    // reused are already connected).
    let connected = false;
    const transport = {
      request(options: http.RequestOptions, callback: (res: http.IncomingMessage) => void) {
        const mod = options.protocol === 'https:' ? https : http;
        const clientRequest = mod.request(options, callback);
        clientRequest.once('socket', (socket) => {
          if (!socket.connecting) connected = true;
          else socket.once('connect', () => (connected = true));
        });
        return clientRequest;
      },
    };
    // Wall-clock limit for the whole exchange (axios's own `timeout` is a socket idle timer,
    // which a slowly trickling response never trips).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      const response = await this.http.request<string>({
        method,
        url,
        data: body,
        headers,
        timeout: timeoutMs,
        signal: controller.signal,
        transport,
      });
      return { kind: 'response', response };
    } catch (error) {
      const code = axios.isAxiosError(error) ? error.code : (error as { code?: string })?.code;
      const message = error instanceof Error ? error.message : '';
      if (timedOut || code === 'ETIMEDOUT' || (code === 'ECONNABORTED' && /timeout/i.test(message))) {
        return { kind: 'timeout', connected };
      }
      // Fall back to the system code Node put on the cause, if axios did not copy it.
      const cause = (error as { cause?: { code?: unknown } })?.cause;
      const systemCode = typeof cause?.code === 'string' ? cause.code : undefined;
      return { kind: 'network', code: code ?? systemCode ?? 'UNKNOWN', connected };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Best-effort parse of an error body for the provider's message. */
function parseBodyLoosely(data: unknown, contentType: string | undefined): unknown {
  if (typeof data !== 'string' || data.trim() === '') return undefined;
  if (looksLikeJson(contentType, data)) {
    try {
      return JSON.parse(data);
    } catch {
      return data;
    }
  }
  return data;
}
