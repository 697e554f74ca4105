import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { describe, it, expect, beforeAll, afterAll, beforeEach, afterEach } from '@jest/globals';
import {
  ProviderAuthError,
  ProviderConflictError,
  ProviderError,
  ProviderNetworkError,
  ProviderNotFoundError,
  ProviderRateLimitError,
  ProviderRequestError,
  ProviderTimeoutError,
  ProviderUnavailableError,
  ProviderValidationError,
} from './provider-errors.js';
import { ProviderHttpClient, type ProviderHttpClientConfig } from './provider-http-client.js';

// ------------------------------------------------------------------------------------------------
// A real HTTP server on 127.0.0.1, scripted per test, recording every request it receives.

type Reply =
  | { status: number; headers?: Record<string, string>; body?: string | object }
  | { hang: true }
  | { destroy: true };

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

class ScriptedServer {
  readonly received: Received[] = [];
  private queue: Reply[] = [];
  private fallback: Reply = { status: 200, body: {} };
  private readonly hanging = new Set<http.ServerResponse>();
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.received.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      this.answer(this.queue.shift() ?? this.fallback, res);
    });
  });
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Replies in order; once used up, `then` (default 200 {}) for every further request. */
  script(replies: Reply[], then: Reply = { status: 200, body: {} }): void {
    this.queue = [...replies];
    this.fallback = then;
  }

  reset(): void {
    this.received.length = 0;
    this.script([]);
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  async stop(): Promise<void> {
    this.reset();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(reply: Reply, res: http.ServerResponse): void {
    if ('hang' in reply) {
      this.hanging.add(res);
      return;
    }
    if ('destroy' in reply) {
      res.socket?.destroy();
      return;
    }
    const body =
      reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    if (body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = typeof reply.body === 'string' ? 'text/plain' : 'application/json';
    }
    res.writeHead(reply.status, headers);
    res.end(body);
  }
}

// ------------------------------------------------------------------------------------------------

interface LogLine {
  level: string;
  text: string;
}

function captureLogger() {
  const lines: LogLine[] = [];
  const push =
    (level: string) =>
    (...args: unknown[]) => {
      lines.push({ level, text: args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 5 }))).join(' ') });
    };
  return { lines, logger: { log: push('log'), warn: push('warn'), debug: push('debug'), error: push('error') } };
}

const server = new ScriptedServer();
const clients: ProviderHttpClient[] = [];
let delays: number[];
let logs: ReturnType<typeof captureLogger>;

function makeClient(overrides: Partial<ProviderHttpClientConfig> = {}): ProviderHttpClient {
  const client = new ProviderHttpClient({
    provider: 'caryrx',
    baseUrl: server.url,
    authHeaders: { apikey: 'test-key' },
    logger: logs.logger,
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    ...overrides,
  });
  clients.push(client);
  return client;
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error('expected the request to fail');
}

beforeAll(async () => {
  await server.start();
});

afterAll(async () => {
  await server.stop();
});

beforeEach(() => {
  server.reset();
  delays = [];
  logs = captureLogger();
});

afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
});

describe('ProviderHttpClient', () => {
  it('returns parsed JSON, status, headers and attempts on 2xx', async () => {
    server.script([{ status: 201, headers: { 'X-Request-Id': 'req_1' }, body: { id: 'ord_1' } }]);
    const res = await makeClient().request<{ id: string }>({ method: 'POST', path: '/v1/orders', body: { a: 1 } });
    expect(res).toMatchObject({ status: 201, data: { id: 'ord_1' }, attempts: 1 });
    expect(res.headers['x-request-id']).toBe('req_1');
    expect(server.received[0]).toMatchObject({ method: 'POST', url: '/v1/orders', body: '{"a":1}' });
    expect(server.received[0].headers['content-type']).toBe('application/json');
  });

  it('resolves 204 / empty bodies with data undefined', async () => {
    server.script([{ status: 204 }, { status: 200, body: '' }]);
    const client = makeClient();
    expect((await client.request({ method: 'DELETE', path: '/v1/orders/1' })).data).toBeUndefined();
    expect((await client.request({ method: 'GET', path: '/v1/orders/1' })).data).toBeUndefined();
  });

  it('1. retries a 503 and succeeds on the second attempt', async () => {
    server.script([{ status: 503 }, { status: 200, body: { ok: true } }]);
    const res = await makeClient().request({ method: 'GET', path: '/v1/orders/1' });
    expect(res.attempts).toBe(2);
    expect(res.data).toEqual({ ok: true });
    expect(server.received).toHaveLength(2);
    // Backoff for attempt 1 with random 0.5: 250 + 250 * 0.5.
    expect(delays).toEqual([375]);
  });

  it('keeps the earlier attempts’ failures on the error, so a caller can tell an echo from a refusal', async () => {
    server.script([{ status: 503 }, { destroy: true }, { status: 400, body: { error: { message: 'Order is not in a cancellable status' } } }]);
    const err = await failure(makeClient().request({ method: 'DELETE', path: '/v1/orders/1' }));
    expect(err).toBeInstanceOf(ProviderValidationError);
    expect(err.attempts).toBe(3);
    expect(err.earlierFailures.map((f) => f.kind)).toEqual(['status', 'network']);
    // The 503 declined; the reset after sending may have gone through.
    expect(err.earlierAttemptMayHaveSucceeded).toBe(true);

    server.script([{ status: 400, body: {} }]);
    const honest = await failure(makeClient().request({ method: 'DELETE', path: '/v1/orders/1' }));
    expect([honest.earlierFailures, honest.earlierAttemptMayHaveSucceeded]).toEqual([[], false]);
  });

  describe('2. 429 and Retry-After', () => {
    it('waits the Retry-After seconds, then succeeds', async () => {
      server.script([{ status: 429, headers: { 'Retry-After': '3' } }, { status: 200, body: {} }]);
      const res = await makeClient().request({ method: 'POST', path: '/v1/patients', body: {} });
      expect(res.attempts).toBe(2);
      expect(delays).toEqual([3000]);
      expect(server.received).toHaveLength(2);
    });

    it('understands the HTTP-date form', async () => {
      const now = Date.UTC(2026, 0, 15, 12, 0, 0);
      server.script([
        { status: 429, headers: { 'Retry-After': new Date(now + 7000).toUTCString() } },
        { status: 200, body: {} },
      ]);
      const res = await makeClient({ now: () => now }).request({ method: 'GET', path: '/v1/orders' });
      expect(res.attempts).toBe(2);
      expect(delays).toEqual([7000]);
    });

    it('does not wait out a Retry-After above the cap: throws ProviderRateLimitError with retryAfterMs', async () => {
      server.script([{ status: 429, headers: { 'Retry-After': '120' }, body: { message: 'slow down' } }]);
      const err = await failure(makeClient().request({ method: 'GET', path: '/v1/orders' }));
      expect(err).toBeInstanceOf(ProviderRateLimitError);
      expect((err as ProviderRateLimitError).retryAfterMs).toBe(120_000);
      expect(err.retryable).toBe(true);
      expect(err.attempts).toBe(1);
      expect(server.received).toHaveLength(1);
      expect(delays).toEqual([]);
    });

    it('honours a custom maxRetryAfterMs', async () => {
      server.script([{ status: 429, headers: { 'Retry-After': '3' } }]);
      const err = await failure(makeClient({ maxRetryAfterMs: 1000 }).request({ method: 'GET', path: '/x' }));
      expect(err).toBeInstanceOf(ProviderRateLimitError);
      expect((err as ProviderRateLimitError).retryAfterMs).toBe(3000);
      expect(server.received).toHaveLength(1);
    });

    it('uses backoff when 429 has no Retry-After, and gives up after maxRetries', async () => {
      server.script([], { status: 429 });
      const err = await failure(makeClient().request({ method: 'GET', path: '/x' }));
      expect(err).toBeInstanceOf(ProviderRateLimitError);
      expect((err as ProviderRateLimitError).retryAfterMs).toBeUndefined();
      expect(err.attempts).toBe(3);
      expect(server.received).toHaveLength(3);
      expect(delays).toEqual([375, 750]);
    });
  });

  it('3. a 400 is not retried and carries the provider message', async () => {
    const text = 'Carrier service level does not offer saturday delivery.';
    server.script([{ status: 400, headers: { 'X-Request-Id': 'abc-123' }, body: { error: { message: text } } }]);
    const err = await failure(
      makeClient({ provider: 'scriptdrop' }).request({ method: 'POST', path: '/v1/deliveries?dry=1', body: {} }),
    );
    expect(server.received).toHaveLength(1);
    expect(err).toBeInstanceOf(ProviderValidationError);
    expect(err.providerMessage).toBe(text);
    expect(err.retryable).toBe(false);
    expect(err.status).toBe(400);
    expect(err.code).toBe('validation');
    expect(err.provider).toBe('scriptdrop');
    expect(err.method).toBe('POST');
    expect(err.path).toBe('/v1/deliveries');
    expect(err.requestId).toBe('abc-123');
    expect(err.attempts).toBe(1);
    expect(err.message).toBe(`ScriptDrop POST /v1/deliveries failed: 400 Bad Request: ${text}`);
    expect(delays).toEqual([]);
  });

  it('scrubs the values it sent, in the body and in the query, from the provider message', async () => {
    const refusal = { status: 400, body: { error: { message: 'no delivery to 1230 Street, Columbus for Jane Roe' } } };
    server.script([refusal, refusal]);
    const err = await failure(
      makeClient({ provider: 'scriptdrop' }).request({
        method: 'GET',
        path: '/api/v1/pharmacies/1',
        query: { 'delivery[address][street]': '1230 Street', 'delivery[address][city]': 'Columbus' },
      }),
    );
    expect(err.providerMessage).toBe('no delivery to [REDACTED], [REDACTED] for Jane Roe');
    const posted = await failure(
      makeClient({ provider: 'scriptdrop' }).request({ method: 'POST', path: '/api/v1/orders', body: { recipient: { name: 'Jane Roe' } } }),
    );
    expect(posted.providerMessage).toBe('no delivery to 1230 Street, Columbus for [REDACTED]');
  });

  it('reads a plain-text error body as the provider message', async () => {
    server.script([{ status: 404, body: 'no such order' }]);
    const err = await failure(makeClient().request({ method: 'GET', path: '/v1/orders/9' }));
    expect(err).toBeInstanceOf(ProviderNotFoundError);
    expect(err.providerMessage).toBe('no such order');
    expect(err.message).toBe('CaryRx GET /v1/orders/9 failed: 404 Not Found: no such order');
  });

  describe('4. each status maps to its error class', () => {
    const cases: Array<[number, new (...args: never[]) => ProviderError, string]> = [
      [400, ProviderValidationError, 'validation'],
      [422, ProviderValidationError, 'validation'],
      [401, ProviderAuthError, 'auth'],
      [403, ProviderAuthError, 'auth'],
      [404, ProviderNotFoundError, 'not_found'],
      [405, ProviderRequestError, 'request'],
      [406, ProviderRequestError, 'request'],
      [409, ProviderConflictError, 'conflict'],
      [418, ProviderRequestError, 'request'],
      [429, ProviderRateLimitError, 'rate_limited'],
      [500, ProviderUnavailableError, 'unavailable'],
      [502, ProviderUnavailableError, 'unavailable'],
      [503, ProviderUnavailableError, 'unavailable'],
      [504, ProviderUnavailableError, 'unavailable'],
    ];
    it.each(cases)('%i → %p', async (status, ErrorClass, code) => {
      server.script([], { status, body: { message: `status ${status}` } });
      const err = await failure(makeClient({ maxRetries: 0 }).request({ method: 'GET', path: '/v1/thing' }));
      expect(err).toBeInstanceOf(ErrorClass);
      expect(err.name).toBe(ErrorClass.name);
      expect(err.code).toBe(code);
      expect(err.status).toBe(status);
      expect(err.providerMessage).toBe(`status ${status}`);
      expect(server.received).toHaveLength(1);
    });

    it('retries the retryable statuses on GET (500, 502, 503, 504, 429) up to maxRetries', async () => {
      for (const status of [500, 502, 503, 504, 429]) {
        server.reset();
        server.script([], { status });
        const err = await failure(makeClient().request({ method: 'GET', path: '/v1/thing' }));
        expect(err.attempts).toBe(3);
        expect(server.received).toHaveLength(3);
        expect(err.retryable).toBe(true);
      }
    });
  });

  describe('5. timeouts', () => {
    it('GET that never gets an answer is retried, then ProviderTimeoutError', async () => {
      server.script([], { hang: true });
      const err = await failure(makeClient({ timeoutMs: 200 }).request({ method: 'GET', path: '/v1/orders/1' }));
      expect(err).toBeInstanceOf(ProviderTimeoutError);
      expect((err as ProviderTimeoutError).outcomeUnknown).toBe(false);
      expect(err.retryable).toBe(true);
      expect(err.attempts).toBe(3);
      expect(server.received).toHaveLength(3);
      expect(delays).toHaveLength(2);
    });

    it('POST that times out is sent exactly once and reported as outcome unknown', async () => {
      server.script([], { hang: true });
      const err = await failure(
        makeClient().request({ method: 'POST', path: '/v1/orders', body: { rx: 1 }, timeoutMs: 200 }),
      );
      expect(err).toBeInstanceOf(ProviderTimeoutError);
      expect((err as ProviderTimeoutError).outcomeUnknown).toBe(true);
      expect(err.retryable).toBe(false);
      expect(err.attempts).toBe(1);
      expect(err.message).toContain('outcome unknown');
      expect(server.received).toHaveLength(1);
      expect(delays).toEqual([]);
    });

    it('a POST marked idempotent is retried after a timeout', async () => {
      server.script([{ hang: true }], { status: 200, body: { ok: 1 } });
      const res = await makeClient({ timeoutMs: 200 }).request({
        method: 'POST',
        path: '/v1/orders/search',
        body: {},
        idempotent: true,
      });
      expect(res.attempts).toBe(2);
      expect(server.received).toHaveLength(2);
    });
  });

  describe('6. 5xx on POST', () => {
    it('503 on POST is retried (the server declined before doing anything)', async () => {
      server.script([{ status: 503 }], { status: 201, body: { id: 'p1' } });
      const res = await makeClient().request({ method: 'POST', path: '/v1/patients', body: {} });
      expect(res.status).toBe(201);
      expect(res.attempts).toBe(2);
      expect(server.received).toHaveLength(2);
    });

    it('502 on POST is not retried (the create may have happened)', async () => {
      server.script([], { status: 502 });
      const err = await failure(makeClient().request({ method: 'POST', path: '/v1/patients', body: {} }));
      expect(err).toBeInstanceOf(ProviderUnavailableError);
      expect(err.retryable).toBe(false);
      expect(err.attempts).toBe(1);
      expect(server.received).toHaveLength(1);
    });

    it('502 on GET is retried', async () => {
      server.script([{ status: 502 }], { status: 200, body: { ok: true } });
      const res = await makeClient().request({ method: 'GET', path: '/v1/patients/1' });
      expect(res.attempts).toBe(2);
      expect(server.received).toHaveLength(2);
    });

    it('a connection reset after the POST was received is not retried and is outcome unknown', async () => {
      server.script([], { destroy: true });
      const err = await failure(makeClient().request({ method: 'POST', path: '/v1/orders', body: {} }));
      expect(err).toBeInstanceOf(ProviderNetworkError);
      expect((err as ProviderNetworkError).outcomeUnknown).toBe(true);
      expect(server.received).toHaveLength(1);
    });

    it('a connection reset on GET is retried', async () => {
      server.script([{ destroy: true }], { status: 200, body: {} });
      const res = await makeClient().request({ method: 'GET', path: '/v1/orders' });
      expect(res.attempts).toBe(2);
    });
  });

  describe('7. connection refused', () => {
    let deadUrl: string;
    beforeAll(async () => {
      const tmp = http.createServer();
      await new Promise<void>((resolve) => tmp.listen(0, '127.0.0.1', resolve));
      const { port } = tmp.address() as AddressInfo;
      await new Promise<void>((resolve) => tmp.close(() => resolve()));
      deadUrl = `http://127.0.0.1:${port}`;
    });

    it.each(['GET', 'POST'] as const)('%s → ProviderNetworkError after maxRetries retries', async (method) => {
      const err = await failure(
        makeClient({ baseUrl: deadUrl }).request({ method, path: '/v1/orders', body: method === 'POST' ? {} : undefined }),
      );
      expect(err).toBeInstanceOf(ProviderNetworkError);
      const net = err as ProviderNetworkError;
      expect(net.causeCode).toBe('ECONNREFUSED');
      expect(net.cause).toEqual({ code: 'ECONNREFUSED' });
      // Nothing was ever sent, so even a POST is safe to repeat and its outcome is known.
      expect(net.outcomeUnknown).toBe(false);
      expect(net.retryable).toBe(true);
      expect(net.attempts).toBe(3);
      expect(delays).toHaveLength(2);
      expect(logs.lines.filter((l) => l.text.includes('ECONNREFUSED'))).toHaveLength(3);
    });
  });

  describe('8. log and error redaction', () => {
    const apiKey = 'sk_test_SECRET_KEY_123';
    const basicKey = 'pk_key_abc';
    const basicSecret = 'tesk_secret_xyz';
    const basic = Buffer.from(`${basicKey}:${basicSecret}`).toString('base64');
    const patient = { first_name: 'JOHN', dob: '2000-02-01', phone_number: '1115550000' };
    const forbidden = [apiKey, basic, `Basic ${basic}`, basicKey, basicSecret, 'JOHN', '2000-02-01', '1115550000'];

    async function exercise(client: ProviderHttpClient, echoed: string): Promise<ProviderError[]> {
      const errors: ProviderError[] = [];
      const attempt = async (p: Promise<unknown>) => {
        try {
          await p;
        } catch (e) {
          errors.push(e as ProviderError);
        }
      };
      server.script(
        [
          { status: 201, body: { id: 'p1' } },
          { status: 503 },
          { status: 200, body: {} },
          { status: 400, body: { error: { message: 'phone_number is invalid' } } },
          { status: 500, body: 'Internal error' },
          // A provider that echoes the rejected credential back.
          { status: 401, body: { message: `Invalid key ${echoed}` } },
          { hang: true },
        ],
        { status: 200, body: {} },
      );
      await attempt(client.request({ method: 'POST', path: '/v1/patients', body: patient }));
      await attempt(client.request({ method: 'POST', path: '/v1/patients', body: patient }));
      await attempt(client.request({ method: 'POST', path: '/v1/patients', body: patient }));
      await attempt(client.request({ method: 'POST', path: '/v1/patients', body: patient }));
      await attempt(client.request({ method: 'GET', path: '/v1/patients', query: { phone: patient.phone_number } }));
      await attempt(client.request({ method: 'POST', path: '/v1/patients', body: patient, timeoutMs: 200 }));
      return errors;
    }

    function assertClean(texts: string[]): void {
      for (const text of texts) {
        for (const secret of forbidden) expect(text).not.toContain(secret);
      }
    }

    it.each([
      ['apikey header', { apikey: apiKey }, 'apikey', apiKey, apiKey],
      ['Basic credentials', { Authorization: `Basic ${basic}` }, 'authorization', `Basic ${basic}`, basicKey],
    ])('%s: never logged nor in errors, but sent', async (_label, authHeaders, headerName, headerValue, echoed) => {
      const client = makeClient({ provider: 'scriptdrop', authHeaders: () => authHeaders });
      const errors = await exercise(client, echoed);

      // The credentials and the body did reach the provider.
      expect(server.received.length).toBeGreaterThanOrEqual(6);
      for (const r of server.received) expect(r.headers[headerName]).toBe(headerValue);
      expect(JSON.parse(server.received[0].body)).toEqual(patient);

      expect(errors.map((e) => e.constructor)).toEqual([
        ProviderValidationError,
        ProviderUnavailableError,
        ProviderAuthError,
        ProviderTimeoutError,
      ]);
      expect(errors[2].providerMessage).toBe('Invalid key [REDACTED]');

      expect(logs.lines.length).toBeGreaterThanOrEqual(7);
      for (const line of logs.lines) {
        expect(line.text).toMatch(/^(GET|POST) \/v1\/patients -> \S+ in \d+ms \(attempt \d\/3\)/);
        expect(line.text).not.toContain('?');
      }
      assertClean(logs.lines.map((l) => l.text));
      assertClean(
        errors.flatMap((e) => [e.message, e.stack ?? '', JSON.stringify(e), inspect(e, { depth: 10 }), String(e.providerMessage)]),
      );
    });
  });

  it('9. serializes query arrays as ids[]=1&ids[]=2 and keeps the query out of logs', async () => {
    const res = await makeClient().request({
      method: 'GET',
      path: '/v1/orders',
      query: { ids: [1, 2], status: 'open shipped', skip: undefined, 'tags[]': ['a&b'] },
    });
    expect(res.status).toBe(200);
    expect(server.received[0].url).toBe('/v1/orders?ids[]=1&ids[]=2&status=open%20shipped&tags[]=a%26b');
    expect(logs.lines).toHaveLength(1);
    expect(logs.lines[0].text).toMatch(/^GET \/v1\/orders -> 200 in \d+ms \(attempt 1\/3\)$/);
  });

  it('logs one line per attempt', async () => {
    server.script([{ status: 503 }, { status: 503 }], { status: 200, body: {} });
    await makeClient().request({ method: 'POST', path: '/v1/patients', body: {} });
    expect(logs.lines.map((l) => l.text.replace(/in \d+ms/, 'in Xms'))).toEqual([
      'POST /v1/patients -> 503 in Xms (attempt 1/3); retrying in 375ms',
      'POST /v1/patients -> 503 in Xms (attempt 2/3); retrying in 750ms',
      'POST /v1/patients -> 200 in Xms (attempt 3/3)',
    ]);
  });

  it('sends default headers and lets auth win over per-request headers', async () => {
    await makeClient({ userAgent: 'host/1.0' }).request({
      method: 'GET',
      path: '/v1/x',
      headers: { apikey: 'wrong', 'X-Trace': 't1' },
    });
    const h = server.received[0].headers;
    expect(h.apikey).toBe('test-key');
    expect(h['x-trace']).toBe('t1');
    expect(h['user-agent']).toBe('host/1.0');
    expect(h.accept).toBe('application/json');
  });

  it('refuses absolute URLs so credentials never go to another host', async () => {
    await expect(makeClient().request({ method: 'GET', path: 'https://evil.example/x' })).rejects.toThrow(TypeError);
    await expect(makeClient().request({ method: 'GET', path: '//evil.example/x' })).rejects.toThrow(TypeError);
    expect(server.received).toHaveLength(0);
  });

  it('a 2xx with malformed JSON is an error, not retried', async () => {
    server.script([{ status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"id":' }]);
    const err = await failure(makeClient().request({ method: 'GET', path: '/v1/x' }));
    expect(err.code).toBe('invalid_response');
    expect(server.received).toHaveLength(1);
  });
});
