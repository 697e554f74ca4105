import { createServer, request as httpRequest, Agent, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The HTTP core both provider simulators stand on: a real server on a port of its own, a small
 * router, an auth hook, a request log with counts, switchable faults, a step clock and a webhook
 * deliverer with drop/duplicate/out-of-order switches. A simulator adds only its provider's routes
 * and state.
 */

export interface SimRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body (undefined when there is none). */
  body: unknown;
  headers: IncomingHttpHeaders;
}

export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type SimHandler = (req: SimRequest) => SimResponse | Promise<SimResponse>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  /** The parsed body, when `recordBodies` is on (default). */
  body?: unknown;
  status: number;
  /** Set when a fault rule answered instead of the route. */
  fault?: FaultRule['kind'];
}

/**
 * A switchable fault. It applies to requests matching `method` and `path` (a route pattern such as
 * `/v1/orders/:id`, a literal path, or a RegExp), `times` times (default: until cleared), with
 * `probability` (default 1).
 */
export interface FaultRule {
  method?: string;
  path?: string | RegExp;
  /**
   * `status`: answer with `status` (e.g. 429 with retryAfter, 500, 503); `latency`: delay then serve
   * normally; `hang`: never answer; `reset`: close the connection without an answer;
   * `drop-response`: handle the request (its effect happens) and then close the connection instead
   * of answering, as a timeout or a broken connection after the provider acted looks to a client;
   * `delay-response`: handle the request (its effect happens, its webhooks go out) and answer only
   * after `latencyMs`, as a slow answer to a call the provider already acted on.
   */
  kind: 'status' | 'latency' | 'hang' | 'reset' | 'drop-response' | 'delay-response';
  status?: number;
  /** Retry-After header value (seconds or an HTTP date). */
  retryAfter?: number | string;
  body?: unknown;
  latencyMs?: number;
  times?: number;
  probability?: number;
}

export interface WebhookFaults {
  /** Drop this many next deliveries. */
  dropNext?: number;
  /** Drop each delivery with this probability. */
  dropRate?: number;
  /** Send this many next deliveries twice. */
  duplicateNext?: number;
  /** Send each delivery twice with this probability. */
  duplicateRate?: number;
  /**
   * Hold deliveries instead of sending them; `releaseHeld()` then sends the held ones newest first
   * (out of order).
   */
  hold?: boolean;
}

export interface WebhookDelivery {
  url: string;
  body: unknown;
  status?: number;
  error?: string;
  dropped?: boolean;
  duplicate?: boolean;
}

export interface SimulatorServerOptions {
  /** For messages, e.g. `CaryRx simulator`. */
  name: string;
  /** True when the request carries the right credentials. */
  authenticate: (headers: IncomingHttpHeaders) => boolean;
  /** The provider's error body for a message (e.g. ScriptDrop's `{"error":{"message"}}`). */
  errorBody: (message: string) => unknown;
  /** Keep parsed bodies in the request log (default true). */
  recordBodies?: boolean;
  /**
   * Answer a known path asked with a method it has no route for with 405 and `Allow` (ScriptDrop's
   * error table lists 405) rather than 404. Default false.
   */
  methodNotAllowed?: boolean;
  /** Concurrent webhook deliveries (default 1, which keeps their order). */
  webhookConcurrency?: number;
  /** Every this many ms each open order moves one status forward (0: only when advance() is called). */
  stepMs?: number;
  random?: () => number;
}

/**
 * An `authenticate` that accepts a request whose `header` equals `expected`, compared in constant
 * time (through sha256, so lengths do not leak either).
 */
export function headerEquals(header: string, expected: string, normalise: (value: string) => string = (v) => v): (headers: IncomingHttpHeaders) => boolean {
  const digest = createHash('sha256').update(expected).digest();
  return (headers) => {
    const given = headers[header];
    return typeof given === 'string' && timingSafeEqual(createHash('sha256').update(normalise(given)).digest(), digest);
  };
}

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  keys: string[];
  handler: SimHandler;
}

function compilePattern(pattern: string): { regex: RegExp; keys: string[] } {
  const keys: string[] = [];
  const source = pattern
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) {
        keys.push(segment.slice(1));
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${source}/?$`), keys };
}

/**
 * What both provider simulators share: the HTTP server, routing, auth, the request log, faults, the
 * status clock and webhook delivery. A simulator adds its routes and how its orders move (advance).
 */
export abstract class SimulatorServer {
  readonly requests: RecordedRequest[] = [];
  readonly webhookLog: WebhookDelivery[] = [];
  webhookFaults: WebhookFaults = {};

  private readonly routes: Route[] = [];
  private readonly faultRules: Array<FaultRule & { remaining: number; matcher?: RegExp }> = [];
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();
  /** Step interval of the status clock, ms; read when the simulator starts. */
  stepMs: number;
  protected readonly random: () => number;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private server?: Server;
  private baseUrl?: string;
  private clock?: NodeJS.Timeout;
  private readonly webhookQueue: Array<() => Promise<void>> = [];
  private readonly held: Array<{ url: string; body: unknown }> = [];
  private activeDeliveries = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: SimulatorServerOptions) {
    this.random = options.random ?? Math.random;
    this.stepMs = options.stepMs ?? 0;
  }

  /** Base URL once started, e.g. http://127.0.0.1:41234 */
  get url(): string {
    if (!this.baseUrl) throw new Error(`${this.options.name} is not started`);
    return this.baseUrl;
  }

  route(method: string, pattern: string, handler: SimHandler): void {
    this.routes.push({ method: method.toUpperCase(), pattern, handler, ...compilePattern(pattern) });
  }

  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    if (this.baseUrl) return this.baseUrl;
    const server = createServer((req, res) => {
      void this.handle(req.method ?? 'GET', req.url ?? '/', req.headers, req, res);
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const address = server.address() as { port: number };
    this.baseUrl = `http://${host}:${address.port}`;
    this.startClock(this.stepMs, () => this.advance());
    return this.baseUrl;
  }

  /** Moves one order (or every open order) one status forward; answers the ids that moved. */
  abstract advance(orderId?: string): string[];

  async stop(): Promise<void> {
    this.stopClock();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.baseUrl = undefined;
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // --- faults ------------------------------------------------------------------------------------

  addFault(rule: FaultRule): void {
    const matcher = typeof rule.path === 'string' ? compilePattern(rule.path).regex : rule.path;
    this.faultRules.push({ ...rule, remaining: rule.times ?? Number.POSITIVE_INFINITY, matcher });
  }

  clearFaults(): void {
    this.faultRules.length = 0;
    this.webhookFaults = {};
  }

  /** Requests received, optionally filtered by method and path (pattern, literal or RegExp). */
  countRequests(method?: string, path?: string | RegExp): number {
    const matcher = typeof path === 'string' ? compilePattern(path).regex : path;
    return this.requests.filter((r) => (!method || r.method === method.toUpperCase()) && (!matcher || matcher.test(r.path))).length;
  }

  resetRequestLog(): void {
    this.requests.length = 0;
  }

  // --- clock -------------------------------------------------------------------------------------

  /** Calls `step` every `stepMs` (0 or less: no clock; tests call the simulator's advance()). */
  startClock(stepMs: number, step: () => void): void {
    this.stopClock();
    if (stepMs > 0) {
      this.clock = setInterval(step, stepMs);
      this.clock.unref();
    }
  }

  stopClock(): void {
    if (this.clock) clearInterval(this.clock);
    this.clock = undefined;
  }

  // --- webhooks ----------------------------------------------------------------------------------

  /** Queues a webhook POST of `body` to `url`, applying the webhook faults. */
  sendWebhook(url: string, body: unknown): void {
    const f = this.webhookFaults;
    if ((f.dropNext ?? 0) > 0 || (f.dropRate && this.random() < f.dropRate)) {
      if ((f.dropNext ?? 0) > 0) f.dropNext = (f.dropNext ?? 0) - 1;
      this.webhookLog.push({ url: redactToken(url), body, dropped: true });
      return;
    }
    if (f.hold) {
      this.held.push({ url, body });
      return;
    }
    const twice = (f.duplicateNext ?? 0) > 0 || Boolean(f.duplicateRate && this.random() < f.duplicateRate);
    if ((f.duplicateNext ?? 0) > 0) f.duplicateNext = (f.duplicateNext ?? 0) - 1;
    this.enqueue(url, body, false);
    if (twice) this.enqueue(url, body, true);
  }

  /** Sends the held deliveries newest first (out of order) and stops holding. */
  releaseHeld(): void {
    this.webhookFaults.hold = false;
    const held = this.held.splice(0).reverse();
    for (const h of held) this.enqueue(h.url, h.body, false);
  }

  /** Resolves when every queued webhook delivery has finished. */
  async flushWebhooks(): Promise<void> {
    if (this.activeDeliveries === 0 && this.webhookQueue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(url: string, body: unknown, duplicate: boolean): void {
    this.webhookQueue.push(async () => {
      const entry: WebhookDelivery = { url: redactToken(url), body, duplicate: duplicate || undefined };
      try {
        entry.status = await this.post(url, body);
      } catch (err) {
        entry.error = (err as Error).message;
      }
      this.webhookLog.push(entry);
    });
    this.pump();
  }

  private pump(): void {
    const limit = this.options.webhookConcurrency ?? 1;
    while (this.activeDeliveries < limit && this.webhookQueue.length > 0) {
      const job = this.webhookQueue.shift()!;
      this.activeDeliveries++;
      void job().finally(() => {
        this.activeDeliveries--;
        if (this.activeDeliveries === 0 && this.webhookQueue.length === 0) {
          const waiters = this.idleWaiters.splice(0);
          waiters.forEach((w) => w());
        } else this.pump();
      });
    }
  }

  private post(url: string, body: unknown): Promise<number> {
    const payload = Buffer.from(JSON.stringify(body));
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        target,
        {
          method: 'POST',
          agent: target.protocol === 'https:' ? undefined : this.agent,
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
          timeout: 10_000,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('timeout', () => req.destroy(new Error('webhook delivery timed out')));
      req.on('error', reject);
      req.end(payload);
    });
  }

  // --- request handling --------------------------------------------------------------------------

  private async handle(
    method: string,
    rawUrl: string,
    headers: IncomingHttpHeaders,
    req: NodeJS.ReadableStream,
    res: ServerResponse,
  ): Promise<void> {
    const url = new URL(rawUrl, 'http://sim');
    const record: RecordedRequest = { method, path: url.pathname, query: url.search, status: 0 };
    this.requests.push(record);
    let dropAnswer = false;
    let answerAfterMs = 0;
    const send = async (response: SimResponse) => {
      record.status = response.status;
      if (dropAnswer) {
        res.destroy();
        return;
      }
      if (answerAfterMs > 0) await new Promise((r) => setTimeout(r, answerAfterMs));
      const text = response.body === undefined ? '' : JSON.stringify(response.body);
      res.writeHead(response.status, {
        ...(text ? { 'content-type': 'application/json' } : {}),
        'content-length': Buffer.byteLength(text),
        ...response.headers,
      });
      res.end(text);
    };

    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');

    const fault = this.takeFault(method, url.pathname);
    if (fault) {
      record.fault = fault.kind;
      if (fault.kind === 'hang') {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      }
      if (fault.kind === 'reset') {
        res.destroy();
        return;
      }
      dropAnswer = fault.kind === 'drop-response';
      if (fault.kind === 'delay-response') answerAfterMs = fault.latencyMs ?? 0;
      if (fault.kind === 'latency') await new Promise((r) => setTimeout(r, fault.latencyMs ?? 0));
      if (fault.kind === 'status') {
        return send({
          status: fault.status ?? 503,
          body: fault.body ?? this.options.errorBody(`simulated ${fault.status ?? 503}`),
          headers: fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : undefined,
        });
      }
    }

    if (!this.options.authenticate(headers)) {
      return send({ status: 401, body: this.options.errorBody('Unauthorized') });
    }
    let body: unknown;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send({ status: 400, body: this.options.errorBody('Body is not valid JSON') });
      }
    }
    if (this.options.recordBodies !== false) record.body = body;

    for (const route of this.routes) {
      if (route.method !== method) continue;
      const match = route.regex.exec(url.pathname);
      if (!match) continue;
      const params: Record<string, string> = {};
      route.keys.forEach((key, i) => (params[key] = decodeURIComponent(match[i + 1])));
      try {
        return send(await route.handler({ method, path: url.pathname, params, query: url.searchParams, body, headers }));
      } catch (err) {
        return send({ status: 500, body: this.options.errorBody(`simulator error: ${(err as Error).message}`) });
      }
    }
    if (this.options.methodNotAllowed) {
      const allowed = this.routes.filter((r) => r.regex.test(url.pathname)).map((r) => r.method);
      if (allowed.length > 0) {
        return send({ status: 405, body: this.options.errorBody('Method Not Allowed'), headers: { allow: [...new Set(allowed)].join(', ') } });
      }
    }
    return send({ status: 404, body: this.options.errorBody('Not Found') });
  }

  private takeFault(method: string, path: string): FaultRule | undefined {
    for (const rule of this.faultRules) {
      if (rule.remaining <= 0) continue;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (rule.matcher && !rule.matcher.test(path)) continue;
      if (rule.probability !== undefined && this.random() >= rule.probability) continue;
      rule.remaining--;
      return rule;
    }
    return undefined;
  }
}

/** Webhook callback URLs carry a token; the log keeps the URL without it. */
const redactToken = (url: string): string => url.replace(/([?&]token=)[^&]*/g, '$1[redacted]');

/** Random lowercase alphanumeric id, as CaryRx's 10-character ids. */
export function randomId(length: number, random: () => number = Math.random): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < length; i++) id += alphabet[Math.floor(random() * alphabet.length)];
  return id;
}
