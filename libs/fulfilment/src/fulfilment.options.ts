import { randomBytes } from 'node:crypto';
import { FulfilmentOptionsError } from './orders/fulfilment-errors.js';

/**
 * Options of FulfilmentModule: the shape hosts pass to forRoot/forRootAsync, and the one place that
 * validates them. Validation runs once at boot, collects every problem with its path and throws a
 * single FulfilmentOptionsError, so the app refuses to start with a message that names all mistakes
 * at once. Secret values are never echoed back: only their paths.
 */

export const CARYRX_ENVIRONMENTS = ['development', 'uat', 'production'] as const;
export type CaryRxEnvironment = (typeof CARYRX_ENVIRONMENTS)[number];

export interface CaryRxOptions {
  /** Base URL of the CaryRx environment, e.g. https://api.example.test (paths start with /v1/). */
  baseUrl: string;
  /** Sent as the `apikey` header on every call. */
  apiKey: string;
  /** Creating prescriptions is refused in production (the API offers it for testing only). */
  environment: CaryRxEnvironment;
  /** Per-request timeout; default 10 000 ms. */
  timeoutMs?: number;
  /** Retries for requests that are safe to repeat; default 2. */
  maxRetries?: number;
}

export interface ScriptDropOptions {
  /** The host, e.g. https://delivery.scriptdrop.co (paths start with /api/v1/). */
  baseUrl: string;
  apiKey: string;
  apiSecret: string;
  timeoutMs?: number;
  maxRetries?: number;
}

export interface WebhookOptions {
  /**
   * Public base URL at which the provider reaches this app, e.g. https://rx.example.com.
   * The module registers `${publicUrl}/${routePrefix}/webhooks/caryrx/...?token=<secret>`.
   */
  publicUrl?: string;
  /**
   * Token that authenticates incoming webhooks. Give two during rotation: the first is put in
   * newly registered callback URLs, both are accepted.
   */
  secret: string | string[];
  /** Route prefix of the webhook controllers; default `fulfilment`. */
  routePrefix?: string;
  /** Largest webhook body accepted, in bytes; default 64 KiB (bigger gets 413). */
  maxBodyBytes?: number;
  /**
   * Days an inbox row (and so its dedup key) is kept; older rows are pruned by the retention job.
   * Default 35: longer than the automatic redelivery of common webhook senders (Stripe: up to 3
   * days) and the 30 days in which some let an operator resend an event. CaryRx documents none.
   */
  retentionDays?: number;
}

export interface SyncOptions {
  /** Register the scheduled status sync (the host must import ScheduleModule.forRoot()). Default true. */
  enabled?: boolean;
  /** Time between sync ticks; default 30 000 ms, at least 1 000. */
  intervalMs?: number;
  /** ScriptDrop ids per multi-get; a claim leases batchSize × concurrency orders. Default 50. */
  batchSize?: number;
  /** Concurrent provider requests per replica (CaryRx GETs and ScriptDrop multi-gets); default 4. */
  concurrency?: number;
  /** How long a claimed order stays leased to one replica; default 60 000 ms. */
  leaseMs?: number;
  /**
   * CaryRx: how long reconciliation looks for the order a create with an unknown outcome may have
   * made (in the patient's orders) before closing it as `not_created`; default 1 800 000 ms (30 min).
   */
  reconcileWindowMs?: number;
}

/** Delivery of the module's domain events (the transactional outbox; see README "Events"). */
export interface EventOptions {
  /**
   * How long the replica that committed an event has to deliver it to the listeners before another
   * replica may deliver it again; default 30 000 ms.
   */
  leaseMs?: number;
  /** How often each replica looks for events left undelivered (a crash, a failed listener); default 5 000 ms. */
  redeliverIntervalMs?: number;
  /** Failed deliveries of one event (a listener threw) after which it is no longer retried; default 10. */
  maxFailures?: number;
}

/** The retention job (issue 15): prunes what grows without bound, on one replica at a time. */
export interface RetentionOptions {
  /** Register the retention job (the host must import ScheduleModule.forRoot()). Default true. */
  enabled?: boolean;
  /** Time between runs; default 3 600 000 (an hour), at least 1 000. */
  intervalMs?: number;
  /** Rows deleted per statement; default 500. */
  batchSize?: number;
  /**
   * Least pause between two batches; default 20 ms. The pause is also at least four times as long
   * as the batch took, so a prune holds the database at most a fifth of the time.
   */
  pauseMs?: number;
  /** Delivered domain events older than this many days are pruned from the outbox; default 7 (undelivered ones never are). */
  deliveredEventsDays?: number;
  /**
   * Also prune the status history of orders terminal for longer than this many days. Default:
   * unset, history is kept (it is the audit trail).
   */
  terminalOrderHistoryDays?: number;
}

export interface SandboxOptions {
  /** Milliseconds between automatic status steps of simulated orders; default 1 000. 0 disables the clock. */
  stepMs?: number;
}

/** What a provider block may hold in sandbox mode: the simulators bring their own URL and credentials. */
export type SandboxProviderOptions = Pick<CaryRxOptions, 'timeoutMs' | 'maxRetries'>;

export interface FulfilmentModuleOptions {
  caryrx?: CaryRxOptions | SandboxProviderOptions;
  scriptdrop?: ScriptDropOptions | SandboxProviderOptions;
  webhooks?: WebhookOptions;
  sync?: SyncOptions;
  events?: EventOptions;
  /** Pruning of the webhook inbox (see webhooks.retentionDays) and, optionally, of old history. */
  retention?: RetentionOptions;
  /**
   * Start in-process simulators of both providers and point the clients at them. Provider blocks
   * are optional in sandbox mode and may hold only `timeoutMs` and `maxRetries`: a URL or a
   * credential beside `sandbox` is refused at boot, since the simulators would silently stand in
   * for the provider it names.
   */
  sandbox?: boolean | SandboxOptions;
  /** Name of the host's TypeORM DataSource, when it is not the default one. */
  dataSource?: string;
  /**
   * Prometheus metrics through prom-client (an optional peer): on by default, in prom-client's
   * global `register` (the one `@willsoto/nestjs-prometheus` serves); `{ registry }` to use another,
   * `false` for none. Without prom-client installed there are none.
   */
  metrics?: boolean | MetricsOptions;
}

/** Options after validation, with every default filled in. */
export interface ResolvedFulfilmentOptions {
  caryrx?: Required<CaryRxOptions>;
  scriptdrop?: Required<ScriptDropOptions>;
  webhooks: {
    publicUrl?: string;
    /** Accepted secrets; the first is the one put in new callback URLs. Empty: webhooks disabled. */
    secrets: string[];
    routePrefix: string;
    maxBodyBytes: number;
    retentionDays: number;
  };
  sync: Required<SyncOptions>;
  events: Required<EventOptions>;
  retention: ResolvedRetentionOptions;
  sandbox: false | ResolvedSandboxOptions;
  dataSource?: string;
  /** false: no metrics; otherwise the registry to register them in (undefined: prom-client's global one). */
  metrics: false | { registry?: MetricsRegistry };
}

export interface ResolvedRetentionOptions extends Required<Omit<RetentionOptions, 'terminalOrderHistoryDays'>> {
  /** null: history is kept. */
  terminalOrderHistoryDays: number | null;
}

/** Sandbox mode after validation: the clock, and each simulated provider's timeouts and retries. */
export interface ResolvedSandboxOptions extends Required<SandboxOptions> {
  caryrx: Required<SandboxProviderOptions>;
  scriptdrop: Required<SandboxProviderOptions>;
}

export const DEFAULT_ROUTE_PREFIX = 'fulfilment';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_RETRIES = 2;
/** See WebhookOptions.retentionDays. */
export const DEFAULT_WEBHOOK_RETENTION_DAYS = 35;

/** Collects problems with their paths; never records a value, so secrets cannot leak into the message. */
class ProblemList {
  readonly problems: string[] = [];
  add(path: string, rule: string): void {
    this.problems.push(`${path} ${rule}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function nonEmptyString(p: ProblemList, path: string, v: unknown): v is string {
  if (typeof v !== 'string' || v.trim() === '') {
    p.add(path, 'must be a non-empty string');
    return false;
  }
  return true;
}

function httpUrl(p: ProblemList, path: string, v: unknown): v is string {
  if (!nonEmptyString(p, path, v)) return false;
  try {
    const url = new URL(v);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    if (url.username || url.password) {
      p.add(path, 'must not carry credentials; use the apiKey/apiSecret options');
      return false;
    }
    return true;
  } catch {
    p.add(path, 'must be an absolute http(s) URL');
    return false;
  }
}

function optionalInt(
  p: ProblemList,
  path: string,
  v: unknown,
  min: number,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    p.add(path, max === Number.MAX_SAFE_INTEGER ? `must be an integer ≥ ${min}` : `must be an integer from ${min} to ${max}`);
    return fallback;
  }
  return v;
}

function optionalBoolean(p: ProblemList, path: string, v: unknown, fallback: boolean): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== 'boolean') {
    p.add(path, 'must be a boolean');
    return fallback;
  }
  return v;
}

function unknownKeys(p: ProblemList, path: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) p.add(`${path ? `${path}.` : ''}${key}`, 'is not a known option');
  }
}

function block(p: ProblemList, path: string, v: unknown): Record<string, unknown> | undefined {
  if (v === undefined) return undefined;
  if (!isObject(v)) {
    p.add(path, 'must be an object');
    return undefined;
  }
  return v;
}

const PROVIDER_TUNING_KEYS = ['timeoutMs', 'maxRetries'];
/** What names a real provider: refused beside `sandbox` (see sandboxProvider). */
const PROVIDER_ENDPOINT_KEYS = ['baseUrl', 'apiKey', 'apiSecret', 'environment'];

/**
 * A provider block beside `sandbox`: timeouts and retries only. A URL or credential is refused
 * rather than ignored: a host that sets both would believe it talks to the provider while its
 * orders go to a simulator. Named by path, the value never printed.
 */
function sandboxProvider(p: ProblemList, path: 'caryrx' | 'scriptdrop', v: unknown): Required<SandboxProviderOptions> {
  const b = block(p, path, v) ?? {};
  for (const key of Object.keys(b)) {
    if (PROVIDER_ENDPOINT_KEYS.includes(key)) {
      p.add(`${path}.${key}`, 'must not be set with sandbox (the simulators replace the provider; remove sandbox to use it)');
    } else if (!PROVIDER_TUNING_KEYS.includes(key)) p.add(`${path}.${key}`, 'is not a known option');
  }
  return {
    timeoutMs: optionalInt(p, `${path}.timeoutMs`, b.timeoutMs, 1, DEFAULT_TIMEOUT_MS),
    maxRetries: optionalInt(p, `${path}.maxRetries`, b.maxRetries, 0, DEFAULT_MAX_RETRIES, 10),
  };
}

/**
 * Validates raw options and fills defaults. Throws FulfilmentOptionsError naming every problem.
 * In sandbox mode the simulators choose their own URLs and keys (see sandboxProvider).
 */
export function validateFulfilmentOptions(raw: unknown): ResolvedFulfilmentOptions {
  const p = new ProblemList();
  if (!isObject(raw)) {
    throw new FulfilmentOptionsError(['options must be an object']);
  }
  unknownKeys(p, '', raw, ['caryrx', 'scriptdrop', 'webhooks', 'sync', 'events', 'retention', 'sandbox', 'dataSource', 'metrics']);

  let stepMs: number | undefined;
  if (raw.sandbox === true) stepMs = 1000;
  else if (isObject(raw.sandbox)) {
    unknownKeys(p, 'sandbox', raw.sandbox, ['stepMs']);
    stepMs = optionalInt(p, 'sandbox.stepMs', raw.sandbox.stepMs, 0, 1000);
  } else if (raw.sandbox !== undefined && raw.sandbox !== false) {
    p.add('sandbox', 'must be a boolean or an object');
  }
  const sandbox: ResolvedFulfilmentOptions['sandbox'] =
    stepMs === undefined
      ? false
      : { stepMs, caryrx: sandboxProvider(p, 'caryrx', raw.caryrx), scriptdrop: sandboxProvider(p, 'scriptdrop', raw.scriptdrop) };

  let caryrx: ResolvedFulfilmentOptions['caryrx'];
  const c = sandbox ? undefined : block(p, 'caryrx', raw.caryrx);
  if (c) {
    unknownKeys(p, 'caryrx', c, ['baseUrl', 'apiKey', 'environment', 'timeoutMs', 'maxRetries']);
    const ok = [httpUrl(p, 'caryrx.baseUrl', c.baseUrl), nonEmptyString(p, 'caryrx.apiKey', c.apiKey)];
    let environment: CaryRxEnvironment = 'development';
    if (!CARYRX_ENVIRONMENTS.includes(c.environment as CaryRxEnvironment)) {
      p.add('caryrx.environment', `must be one of ${CARYRX_ENVIRONMENTS.join(', ')}`);
      ok.push(false);
    } else environment = c.environment as CaryRxEnvironment;
    const timeoutMs = optionalInt(p, 'caryrx.timeoutMs', c.timeoutMs, 1, DEFAULT_TIMEOUT_MS);
    const maxRetries = optionalInt(p, 'caryrx.maxRetries', c.maxRetries, 0, DEFAULT_MAX_RETRIES, 10);
    if (ok.every(Boolean)) {
      caryrx = { baseUrl: c.baseUrl as string, apiKey: c.apiKey as string, environment, timeoutMs, maxRetries };
    }
  } else if (!sandbox && raw.caryrx === undefined && raw.scriptdrop === undefined) {
    p.add('caryrx', 'or scriptdrop must be configured (or set sandbox: true)');
  }

  let scriptdrop: ResolvedFulfilmentOptions['scriptdrop'];
  const s = sandbox ? undefined : block(p, 'scriptdrop', raw.scriptdrop);
  if (s) {
    unknownKeys(p, 'scriptdrop', s, ['baseUrl', 'apiKey', 'apiSecret', 'timeoutMs', 'maxRetries']);
    const ok = [
      httpUrl(p, 'scriptdrop.baseUrl', s.baseUrl),
      nonEmptyString(p, 'scriptdrop.apiKey', s.apiKey),
      nonEmptyString(p, 'scriptdrop.apiSecret', s.apiSecret),
    ];
    if (typeof s.apiKey === 'string' && s.apiKey.includes(':')) {
      p.add('scriptdrop.apiKey', 'must not contain ":" (it is joined to the secret for HTTP Basic auth)');
      ok.push(false);
    }
    const timeoutMs = optionalInt(p, 'scriptdrop.timeoutMs', s.timeoutMs, 1, DEFAULT_TIMEOUT_MS);
    const maxRetries = optionalInt(p, 'scriptdrop.maxRetries', s.maxRetries, 0, DEFAULT_MAX_RETRIES, 10);
    if (ok.every(Boolean)) {
      scriptdrop = {
        baseUrl: s.baseUrl as string,
        apiKey: s.apiKey as string,
        apiSecret: s.apiSecret as string,
        timeoutMs,
        maxRetries,
      };
    }
  }

  const webhooks: ResolvedFulfilmentOptions['webhooks'] = {
    secrets: [],
    routePrefix: DEFAULT_ROUTE_PREFIX,
    maxBodyBytes: 64 * 1024,
    retentionDays: DEFAULT_WEBHOOK_RETENTION_DAYS,
  };
  const w = block(p, 'webhooks', raw.webhooks);
  if (w) {
    unknownKeys(p, 'webhooks', w, ['publicUrl', 'secret', 'routePrefix', 'maxBodyBytes', 'retentionDays']);
    if (w.publicUrl !== undefined && httpUrl(p, 'webhooks.publicUrl', w.publicUrl)) {
      webhooks.publicUrl = (w.publicUrl as string).replace(/\/+$/, '');
    }
    const secrets = Array.isArray(w.secret) ? w.secret : [w.secret];
    if (secrets.length === 0 || secrets.length > 2) {
      p.add('webhooks.secret', 'must be one secret, or two during rotation');
    } else {
      secrets.forEach((secret, i) => {
        const path = Array.isArray(w.secret) ? `webhooks.secret[${i}]` : 'webhooks.secret';
        if (typeof secret !== 'string' || secret.length < 16) {
          p.add(path, 'must be a string of at least 16 characters');
        } else if (!/^[A-Za-z0-9._~-]+$/.test(secret)) {
          p.add(path, 'must use only URL-safe characters (A-Z a-z 0-9 . _ ~ -): it travels in the callback URL');
        } else webhooks.secrets.push(secret);
      });
    }
    if (w.routePrefix !== undefined) {
      if (typeof w.routePrefix !== 'string' || !/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(w.routePrefix.replace(/^\/+|\/+$/g, ''))) {
        p.add('webhooks.routePrefix', 'must be a URL path such as "fulfilment" or "api/fulfilment"');
      } else webhooks.routePrefix = w.routePrefix.replace(/^\/+|\/+$/g, '');
    }
    webhooks.maxBodyBytes = optionalInt(p, 'webhooks.maxBodyBytes', w.maxBodyBytes, 1024, 64 * 1024, 10 * 1024 * 1024);
    webhooks.retentionDays = optionalInt(p, 'webhooks.retentionDays', w.retentionDays, 1, DEFAULT_WEBHOOK_RETENTION_DAYS, 36_500);
  } else if (!sandbox && raw.caryrx !== undefined) {
    // CaryRx pushes events: without a secret its callbacks could not be authenticated.
    p.add('webhooks.secret', 'is required when caryrx is configured (webhooks authenticate with it)');
  }

  if (sandbox && webhooks.secrets.length === 0) {
    // The simulators post to callback URLs the module registers; they need a token like any other.
    webhooks.secrets.push(randomBytes(24).toString('base64url'));
  }

  const y = block(p, 'sync', raw.sync) ?? {};
  unknownKeys(p, 'sync', y, ['enabled', 'intervalMs', 'batchSize', 'concurrency', 'leaseMs', 'reconcileWindowMs']);
  const sync: Required<SyncOptions> = {
    enabled: optionalBoolean(p, 'sync.enabled', y.enabled, true),
    intervalMs: optionalInt(p, 'sync.intervalMs', y.intervalMs, 1000, 30_000),
    batchSize: optionalInt(p, 'sync.batchSize', y.batchSize, 1, 50, 1000),
    concurrency: optionalInt(p, 'sync.concurrency', y.concurrency, 1, 4, 64),
    leaseMs: optionalInt(p, 'sync.leaseMs', y.leaseMs, 1000, 60_000),
    reconcileWindowMs: optionalInt(p, 'sync.reconcileWindowMs', y.reconcileWindowMs, 0, 1_800_000),
  };

  const e = block(p, 'events', raw.events) ?? {};
  unknownKeys(p, 'events', e, ['leaseMs', 'redeliverIntervalMs', 'maxFailures']);
  const events: Required<EventOptions> = {
    leaseMs: optionalInt(p, 'events.leaseMs', e.leaseMs, 1000, 30_000),
    redeliverIntervalMs: optionalInt(p, 'events.redeliverIntervalMs', e.redeliverIntervalMs, 100, 5_000),
    maxFailures: optionalInt(p, 'events.maxFailures', e.maxFailures, 1, 10),
  };

  const retention = retentionOptions(p, raw.retention);

  let dataSource: string | undefined;
  if (raw.dataSource !== undefined && nonEmptyString(p, 'dataSource', raw.dataSource)) dataSource = raw.dataSource;

  const metrics = metricsOptions(p, raw.metrics);

  if (p.problems.length > 0) throw new FulfilmentOptionsError(p.problems);
  return { caryrx, scriptdrop, webhooks, sync, events, retention, sandbox, dataSource, metrics };
}

// --- metrics ------------------------------------------------------------------------------------

/**
 * What the module needs of a prom-client `Registry` (declared here so the types do not require
 * prom-client): a prom-client Registry, whichever copy of prom-client made it, fits.
 */
export interface MetricsRegistry {
  registerMetric(metric: never): void;
  getSingleMetric(name: string): unknown;
}

export interface MetricsOptions {
  /** The prom-client Registry to register the metrics in; default prom-client's global `register`. */
  registry?: MetricsRegistry;
}

function metricsOptions(p: ProblemList, v: unknown): ResolvedFulfilmentOptions['metrics'] {
  if (v === undefined || v === true) return {};
  if (v === false) return false;
  if (!isObject(v)) {
    p.add('metrics', 'must be a boolean or an object');
    return false;
  }
  unknownKeys(p, 'metrics', v, ['registry']);
  const registry = v.registry as Partial<Record<keyof MetricsRegistry, unknown>> | undefined;
  if (registry === undefined) return {};
  if (!isObject(registry) || typeof registry.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function') {
    p.add('metrics.registry', 'must be a prom-client Registry');
    return false;
  }
  return { registry: registry as MetricsRegistry };
}

// --- the ops console (`ops`, given beside isGlobal: it adds controllers) -----------------------

/**
 * The host's access check for the ops console as a function: the operator's name (recorded in the
 * history of every action) when the request may see the console, false (or null) when not (403).
 * It may throw an HttpException of its own (e.g. 401 with WWW-Authenticate). `request` is the
 * adapter's request (express Request or Fastify request).
 */
export type OpsAccessCheck = (request: OpsRequest) => string | false | null | undefined | Promise<string | false | null | undefined>;

/** What the console relies on of the adapter's request, the same on express and Fastify. */
export interface OpsRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** Set by a guard class that authenticates (as Passport's guards do): the operator's name is read from it. */
  user?: unknown;
}

/** A Nest guard class (CanActivate), instantiated in the module; it may inject global providers. */
export type OpsGuardClass = abstract new (...args: never[]) => { canActivate(context: never): boolean | Promise<boolean> | unknown };

export interface OpsConsoleOptions {
  /**
   * Required: the host's access check, a guard class (the operator's name from `request.user`: a
   * string or its `username`, `name`, `email`, `sub` or `id`) or an OpsAccessCheck function. The
   * console refuses to mount without one.
   */
  guard: OpsGuardClass | OpsAccessCheck;
  /** URL path of the console (under the app's global prefix); default `fulfilment/ops`. */
  path?: string;
  /**
   * Key of the console's CSRF tokens, at least 32 characters; give every replica behind one load
   * balancer the same one. Default: random per process (a form posted to another replica is refused).
   */
  csrfSecret?: string;
  /** An open order unchanged for this long is "stuck"; default 60 minutes. */
  stuckAfterMinutes?: number;
  /** Rows per page; default 50, at most 200. */
  pageSize?: number;
}

export interface ResolvedOpsOptions {
  path: string;
  guard: { kind: 'class'; guard: OpsGuardClass } | { kind: 'function'; check: OpsAccessCheck };
  csrfSecret: string;
  stuckAfterMinutes: number;
  pageSize: number;
}

export const DEFAULT_OPS_PATH = 'fulfilment/ops';

const URL_PATH = /^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/;

/**
 * Validates the `ops` option; undefined when the console is off (the default). Throws
 * FulfilmentOptionsError naming every problem, `ops.guard` first among them: without the host's
 * access check the console does not mount.
 */
export function validateOpsOptions(raw: unknown): ResolvedOpsOptions | undefined {
  if (raw === undefined || raw === false) return undefined;
  const p = new ProblemList();
  const o = block(p, 'ops', raw);
  if (!o) throw new FulfilmentOptionsError(p.problems);
  unknownKeys(p, 'ops', o, ['guard', 'path', 'csrfSecret', 'stuckAfterMinutes', 'pageSize']);
  let guard: ResolvedOpsOptions['guard'] | undefined;
  if (typeof o.guard !== 'function') {
    p.add('ops.guard', 'is required: a Nest guard class (CanActivate) or a function (request) => operator name | false; the ops console does not mount without the host\'s access check');
  } else if (typeof (o.guard.prototype as { canActivate?: unknown } | undefined)?.canActivate === 'function') {
    guard = { kind: 'class', guard: o.guard as OpsGuardClass };
  } else guard = { kind: 'function', check: o.guard as OpsAccessCheck };
  let path = DEFAULT_OPS_PATH;
  if (o.path !== undefined) {
    const trimmed = typeof o.path === 'string' ? o.path.replace(/^\/+|\/+$/g, '') : '';
    if (!URL_PATH.test(trimmed) || trimmed.split('/').some((segment) => /^\.+$/.test(segment))) p.add('ops.path', 'must be a URL path such as "fulfilment/ops" or "ops"');
    else path = trimmed;
  }
  let csrfSecret = randomBytes(32).toString('base64url');
  if (o.csrfSecret !== undefined) {
    if (typeof o.csrfSecret !== 'string' || o.csrfSecret.length < 32) p.add('ops.csrfSecret', 'must be a string of at least 32 characters');
    else csrfSecret = o.csrfSecret;
  }
  const stuckAfterMinutes = optionalInt(p, 'ops.stuckAfterMinutes', o.stuckAfterMinutes, 1, 60, 525_600);
  const pageSize = optionalInt(p, 'ops.pageSize', o.pageSize, 1, 50, 200);
  if (p.problems.length > 0 || !guard) throw new FulfilmentOptionsError(p.problems);
  return { path, guard, csrfSecret, stuckAfterMinutes, pageSize };
}

function retentionOptions(p: ProblemList, v: unknown): ResolvedRetentionOptions {
  const r = block(p, 'retention', v) ?? {};
  unknownKeys(p, 'retention', r, ['enabled', 'intervalMs', 'batchSize', 'pauseMs', 'deliveredEventsDays', 'terminalOrderHistoryDays']);
  return {
    enabled: optionalBoolean(p, 'retention.enabled', r.enabled, true),
    intervalMs: optionalInt(p, 'retention.intervalMs', r.intervalMs, 1000, 3_600_000),
    batchSize: optionalInt(p, 'retention.batchSize', r.batchSize, 1, 500, 10_000),
    pauseMs: optionalInt(p, 'retention.pauseMs', r.pauseMs, 0, 20, 30_000),
    deliveredEventsDays: optionalInt(p, 'retention.deliveredEventsDays', r.deliveredEventsDays, 1, 7, 36_500),
    terminalOrderHistoryDays: r.terminalOrderHistoryDays === undefined ? null : optionalInt(p, 'retention.terminalOrderHistoryDays', r.terminalOrderHistoryDays, 1, 0, 36_500),
  };
}
