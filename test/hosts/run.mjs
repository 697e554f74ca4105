#!/usr/bin/env node
// `npm run test:hosts [-- --only NAME[,NAME] --jobs N --fresh --keep-schemas --verbose]`
//
// Proves the packed library in hosts that share nothing with this repository. Packs the library
// once, then for each fixture host under test/hosts/<name>/ (its own package.json with the ranges
// such a host has, its own tsconfig, main.ts and controller, its own Jest test):
//   1. copies the fixture into a work directory OUTSIDE the repository (default
//      ~/.cache/nestjs-fulfilment-hosts/<name>; HOSTS_CACHE_DIR moves it), where no parent folder
//      has a node_modules for Node, TypeScript or Jest to fall back on. Its node_modules and
//      package-lock.json stay between runs: that is the cache (it also keeps the versions first
//      resolved; `--fresh` resolves every range anew).
//   2. `npm install --no-audit --no-fund --strict-peer-deps <tarball>`: never --legacy-peer-deps or
//      --force; a peer conflict fails the host. The tarball's name carries its hash, so a changed
//      library is always reinstalled.
//   3. `npm run build` and `tsc --noEmit -p tsconfig.json` (the tests type-checked too).
//   4. the host's own `npm test` (its default Jest setup), which imports nestjs-fulfilment/testing.
//   5. boots `node dist/main.js` on a free loopback port in sandbox mode and checks over HTTP: a
//      CaryRx order placed through the host's controller reaches `delivered` through webhooks, a
//      ScriptDrop delivery through the status sync (read from the order's history), the webhook
//      route's answers to bad and good input, and the module's typed errors as the host's exported
//      FulfilmentExceptionFilter answers them (status and exact body: an unknown order id 404, an
//      invalid date of birth 400 naming the field, cancelling the delivered delivery 409 and the
//      CaryRx order 422); then stops it and reads its log: no 5xx, no stack frame, no webhook
//      secret, no patient value.
//
// What a fixture host provides (the contract this runner drives):
//   env  PORT, HOST, FULFILMENT_WEBHOOK_SECRET, FULFILMENT_SYNC_INTERVAL_MS, SANDBOX_STEP_MS,
//        DATABASE_URL (PostgreSQL hosts; the runner points search_path at a schema of its own) or
//        DATABASE_PATH (SQLite hosts)
//   GET  /health → 200 once up; logs "registered CaryRx webhooks" once registered
//   POST /checkouts/caryrx      { reference, patient{id,firstName,lastName,dob,phone}, address{street1,city,state,zip}, medication{name,quantity,daysSupply} }
//   POST /checkouts/scriptdrop  { reference, patient{…}, address{…}, rx{number,ndc,quantity,daysSupply} }  → { orderId, status }
//   GET  /orders/:id            → { status, providerStatus, history: [{ from, to, providerStatus, source }] }
//   DELETE /orders/:id          → fulfilment.cancelOrder(id)
//   the module's errors answered by its FulfilmentExceptionFilter (registered by the host)
//   an access log line per request: `<METHOD> <path without query> <status>`
//   optional: with @nestjs/terminus installed, GET /health is a terminus check holding the module's
//   FulfilmentHealthIndicator as `fulfilment`; with prom-client installed, GET /metrics serves the
//   registry the module registers in (the runner checks the module's metrics moved with its checks)
//
// PostgreSQL hosts are skipped (not failed) when PostgreSQL does not answer at DATABASE_URL
// (default postgres://postgres@127.0.0.1:5432/test). Exit code 1 when any host failed.
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const verbose = flag('verbose') || process.env.HOSTS_VERBOSE === '1';
// Two hosts at a time: measured faster on 2 cores than one (cold 127 s vs 160 s, warm 42 s vs 50 s).
const jobs = Math.max(1, Number(option('jobs', process.env.HOSTS_JOBS ?? '2')));
const only = option('only', '')?.split(',').filter(Boolean) ?? [];
const cacheRoot = resolve(process.env.HOSTS_CACHE_DIR ?? join(homedir(), '.cache', 'nestjs-fulfilment-hosts'));
const pgBaseUrl = process.env.HOSTS_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// Simulated providers advance every open order every 250 ms; the status sync ticks every second.
// Each CaryRx webhook applied moves that order's next sync read a full interval away, so while
// webhooks come every 250 ms the sync never reads the CaryRx order: its changes arrive by webhook
// only, and ScriptDrop's (no webhooks) by the sync only.
const STEP_MS = 250;
const SYNC_MS = 1000;
const FLOW_TIMEOUT_MS = 30_000;
const SCHEMA_PREFIX = 'hostmatrix_';

const started = Date.now();
const secs = (ms) => `${Math.round(ms / 1000)}s`;
const progress = (host, text) => {
  if (verbose) process.stderr.write(`  · ${host}: ${text}\n`);
};

// --- processes --------------------------------------------------------------------------------

const children = new Set();

/**
 * The environment a host's commands see: this one without what `npm run` sets for this repository
 * (npm_*: its package, prefix and workspace config; only the download cache is kept) and without
 * the variables the hosts read.
 */
function cleanEnv(extra = {}) {
  const env = {};
  const dropped = /^(npm_|INIT_CWD$|NODE_OPTIONS$|PORT$|HOST$|DATABASE_|CARYRX_|SCRIPTDROP_|FULFILMENT_|SANDBOX_|PUBLIC_URL$)/i;
  for (const [key, value] of Object.entries(process.env)) {
    if (!dropped.test(key) || /^npm_config_cache$/i.test(key)) env[key] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs a command to completion; resolves { code, output, ms }. Killed (group and all) after timeoutMs. */
function run(command, commandArgs, { cwd, env, timeoutMs }) {
  return new Promise((resolvePromise) => {
    const t0 = Date.now();
    const child = spawn(command, commandArgs, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[runner] killed after ${secs(timeoutMs)}\n`;
      killGroup(child, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => (output += `\n[runner] ${err.message}\n`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolvePromise({ code: code ?? (signal ? 128 : 1), output, ms: Date.now() - t0 });
    });
  });
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function freePort() {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePromise(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tail = (text, lines = 40) => text.trimEnd().split('\n').slice(-lines).join('\n');
const stripAnsi = (text) => text.replace(/\x1b\[[0-9;]*m/g, '');

// --- PostgreSQL -------------------------------------------------------------------------------

let pg;
async function pgClient() {
  pg ??= (await import('pg')).default;
  const client = new pg.Client({ connectionString: pgBaseUrl, connectionTimeoutMillis: 3000 });
  await client.connect();
  return client;
}

async function postgresReachable() {
  try {
    const client = await pgClient();
    await client.query('select 1');
    // Schemas left by runs that died (their pid is gone); a run still going keeps its own.
    const { rows } = await client.query(`select nspname from pg_namespace where nspname like '${SCHEMA_PREFIX}%'`);
    for (const { nspname } of rows) {
      const pid = Number(nspname.split('_').pop());
      if (!isAlive(pid)) await client.query(`drop schema if exists "${nspname}" cascade`);
    }
    await client.end();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function withPg(fn) {
  const client = await pgClient();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** DATABASE_URL whose connections use `schema` (libpq `options`, honoured by pg and so by TypeORM). */
function schemaUrl(schema) {
  const url = new URL(pgBaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

// --- the work directory -----------------------------------------------------------------------

/** No parent of the work directory may hold a node_modules or package.json to fall back on. */
function sharedAncestor(dir) {
  for (let d = dirname(dir); ; d = dirname(d)) {
    for (const name of ['node_modules', 'package.json']) if (existsSync(join(d, name))) return join(d, name);
    if (d === parse(d).root) return undefined;
  }
}

/** Fresh copy of the fixture; node_modules and package-lock.json (the cache) are kept. */
function prepareWorkDir(name, tarball) {
  const work = join(cacheRoot, name);
  mkdirSync(work, { recursive: true });
  for (const entry of readdirSync(work)) {
    if (entry !== 'node_modules' && entry !== 'package-lock.json') rmSync(join(work, entry), { recursive: true, force: true });
  }
  cpSync(join(here, name), work, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)([\\/]|$)/.test(src.slice(join(here, name).length)) });
  mkdirSync(join(work, 'vendor'));
  cpSync(tarball.path, join(work, 'vendor', tarball.file));
  return work;
}

function versionOf(work, pkg) {
  try {
    return JSON.parse(readFileSync(join(work, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

// --- HTTP checks ------------------------------------------------------------------------------

async function http(method, url, { body, type = 'application/json', raw } = {}) {
  const init = { method, headers: {} };
  if (body !== undefined || raw !== undefined) {
    init.headers['content-type'] = type;
    init.body = raw ?? JSON.stringify(body);
  }
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, json };
  } catch (err) {
    return { status: 0, error: err instanceof Error ? err.message : String(err) };
  }
}

const letters = (n) => Array.from(randomBytes(n), (b) => String.fromCharCode(97 + (b % 26))).join('');

function fakePatient() {
  const last = `Q${letters(7)}`;
  return {
    patient: { id: `hm-patient-${letters(6)}`, firstName: 'Hostcheck', lastName: last, dob: '1985-07-19', phone: '2025550143' },
    address: { street1: `${100 + (randomBytes(1)[0] % 800)} ${last} Lane`, city: 'Columbus', state: 'OH', zip: '43210' },
    /** Values that must never show in the host's log. */
    needles: [last, '2025550143', '1985-07-19'],
  };
}

/** Polls an order until it is terminal (or the deadline); returns the last view. */
async function followOrder(base, orderId) {
  const deadline = Date.now() + FLOW_TIMEOUT_MS;
  let view;
  while (Date.now() < deadline) {
    const res = await http('GET', `${base}/orders/${orderId}`);
    if (res.status === 200) view = res.json;
    if (view && ['delivered', 'cancelled', 'returned', 'delivery_failed'].includes(view.status)) return view;
    await sleep(200);
  }
  return view;
}

function describeFlow(provider, view, expectedSource) {
  if (!view) return { ok: false, text: `${provider} order not readable` };
  const last = view.history?.at(-1);
  const viaSource = (view.history ?? []).filter((h) => h.source === expectedSource).length;
  const ok = view.status === 'delivered' && last?.to === 'delivered' && last?.source === expectedSource;
  return {
    ok,
    text: ok
      ? `${provider} delivered via ${expectedSource}`
      : `${provider} ${view.status}${last ? ` (last change via ${last.source})` : ''}, expected delivered via ${expectedSource} (${viaSource} ${expectedSource} changes)`,
  };
}

async function webhookChecks(base, secret) {
  const route = `${base}/fulfilment/webhooks/caryrx/orders`;
  const tokened = `${route}?token=${encodeURIComponent(secret)}`;
  const event = () => ({ id: `hm${letters(10)}`, order_status: 'shipped', updated_at: new Date().toISOString() });
  const valid = { ...event(), vendor_extension: { note: 'a field the host never declared' } };
  const cases = [
    { label: 'wrong token', expect: 401, send: () => http('POST', `${route}?token=${encodeURIComponent(`x${secret}`)}`, { body: event() }) },
    { label: 'missing token', expect: 401, send: () => http('POST', route, { body: event() }) },
    { label: 'malformed JSON', expect: 400, send: () => http('POST', tokened, { raw: '{"id":"hm1","order_status":' }) },
    { label: 'wrong-typed field', expect: 400, send: () => http('POST', tokened, { body: { ...event(), id: 12345 } }) },
    { label: 'body over the cap', expect: 413, send: () => http('POST', tokened, { body: { ...event(), filler: 'f'.repeat(70_000) } }) },
    // Past express's own 100 kB parser limit and Fastify's: still the module's 413, and 401 without the token.
    { label: '2 MB body', expect: 413, send: () => http('POST', tokened, { body: { ...event(), filler: 'f'.repeat(2_000_000) } }) },
    { label: '2 MB body, no token', expect: 401, send: () => http('POST', route, { body: { ...event(), filler: 'f'.repeat(2_000_000) } }) },
    { label: 'text/plain body', expect: 415, send: () => http('POST', tokened, { raw: JSON.stringify(event()), type: 'text/plain' }) },
    { label: 'valid event', expect: '2xx', send: () => http('POST', tokened, { body: valid }), duplicate: false },
    { label: 'its duplicate', expect: '2xx', send: () => http('POST', tokened, { body: valid }), duplicate: true },
  ];
  const results = [];
  for (const c of cases) {
    const res = await c.send();
    let ok = c.expect === '2xx' ? res.status >= 200 && res.status < 300 : res.status === c.expect;
    // When the answer says whether it was a duplicate, it must say so rightly.
    if (ok && c.duplicate !== undefined && typeof res.json?.duplicate === 'boolean' && res.json.duplicate !== c.duplicate) ok = false;
    const shown = ok && c.expect === '2xx' ? '2xx' : String(res.status || 'no answer');
    results.push({ ...c, status: res.status, ok, shown: ok ? shown : `${shown}${c.duplicate !== undefined && res.json?.duplicate !== undefined ? ` duplicate=${res.json.duplicate}` : ''}` });
  }
  return results;
}

/** Each module metric and the least it must read after the flows and webhookChecks above (labels the sample must carry). */
const EXPECTED_METRICS = [
  ['fulfilment_webhooks_received_total', { provider: 'caryrx', topic: 'caryrx.order', outcome: 'applied' }, 1],
  ['fulfilment_webhooks_received_total', { outcome: 'unauthorized' }, 3],
  ['fulfilment_webhooks_received_total', { outcome: 'invalid_body' }, 2],
  ['fulfilment_webhooks_received_total', { outcome: 'too_large' }, 2],
  ['fulfilment_webhooks_received_total', { outcome: 'unsupported_media_type' }, 1],
  ['fulfilment_webhooks_received_total', { outcome: 'duplicate' }, 1],
  ['fulfilment_webhook_ingestion_duration_seconds_count', { provider: 'caryrx' }, 1],
  ['fulfilment_provider_requests_total', { provider: 'scriptdrop', operation: 'create_order' }, 1],
  ['fulfilment_provider_requests_total', { provider: 'caryrx', operation: 'create_order' }, 1],
  ['fulfilment_provider_request_duration_seconds_count', { provider: 'scriptdrop', operation: 'get_orders' }, 1],
  ['fulfilment_provider_retries_total', {}, 0],
  ['fulfilment_sync_ticks_total', { outcome: 'completed' }, 1],
  ['fulfilment_sync_tick_duration_seconds_count', { outcome: 'completed' }, 1],
  ['fulfilment_sync_orders_claimed_total', {}, 1],
  ['fulfilment_sync_orders_changed_total', {}, 1],
  ['fulfilment_sync_orders_failed_total', {}, 0],
  ['fulfilment_orders_open', {}, 0],
  ['fulfilment_sync_oldest_due_order_age_seconds', {}, 0],
  ['fulfilment_events_undelivered', {}, 0],
];

/**
 * The host's terminus /health with the module's indicator, and its /metrics with the module's
 * metrics, when it installed them (both optional peers).
 */
async function observabilityChecks(base, deps) {
  const checks = [];
  if (deps['@nestjs/terminus']) {
    const res = await http('GET', `${base}/health`);
    const indicator = res.json?.details?.fulfilment;
    const ok = res.status === 200 && indicator?.status === 'up' && indicator?.database === 'up' && indicator?.webhooks?.['caryrx.orders'] === 'confirmed';
    checks.push({ ok, text: ok ? 'health: fulfilment up, webhooks confirmed' : `health answered ${res.status}: ${JSON.stringify(indicator ?? res.json ?? res.error)}` });
  }
  if (deps['prom-client']) {
    let text = '';
    try {
      const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) });
      text = res.status === 200 ? await res.text() : '';
    } catch {
      // reported below as no metrics
    }
    const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
    const sum = (name, labels) =>
      samples
        .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
        .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)))
        .reduce((total, l) => total + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    const declared = (name) => text.includes(`# TYPE ${name.replace(/_count$/, '')} `);
    const short = EXPECTED_METRICS.filter(([name, labels, least]) => !declared(name) || sum(name, labels) < least).map(
      ([name, labels, least]) => `${name}${JSON.stringify(labels)} ${declared(name) ? sum(name, labels) : 'missing'} < ${least}`,
    );
    checks.push({ ok: text !== '' && short.length === 0, text: text === '' ? 'no /metrics' : short.length ? `metrics: ${short.join(', ')}` : `metrics: ${new Set(EXPECTED_METRICS.map(([n]) => n)).size} of the module's moved as expected` });
  }
  return checks;
}

/**
 * The module's typed errors through the host's own routes, answered by the exported filter: each
 * must come back with its documented status and exactly the documented body (README, "Errors and
 * their HTTP answers"), holding no patient value. The cancels need the two delivered orders.
 */
async function errorChecks(base, { patient, address, needles }, delivered) {
  const futureDob = '2999-01-01';
  const cases = [
    { label: '404', expect: 404, type: 'not_found', send: () => http('GET', `${base}/orders/${randomUUID()}`) },
    {
      label: '400 dob',
      expect: 400,
      type: 'invalid_input',
      keys: ['fields'],
      // Passes the host's own DTO (a YYYY-MM-DD string) and breaks the module's rule (a past date).
      field: /(^|\.)dob$/,
      send: () =>
        http('POST', `${base}/checkouts/caryrx`, {
          body: { reference: `hm-${letters(8)}-dob`, patient: { ...patient, dob: futureDob }, address, medication: { name: 'atorvastatin', quantity: 30, daysSupply: 30 } },
        }),
    },
    { label: '409', expect: 409, type: 'order_state_conflict', needs: 'scriptdrop', send: () => http('DELETE', `${base}/orders/${delivered.scriptdrop}`) },
    { label: '422', expect: 422, type: 'unsupported_operation', keys: ['provider'], needs: 'caryrx', send: () => http('DELETE', `${base}/orders/${delivered.caryrx}`) },
  ];
  const results = [];
  for (const c of cases) {
    if (c.needs && !delivered[c.needs]) {
      results.push({ ...c, ok: false, shown: `${c.label} not run (no delivered ${c.needs} order)` });
      continue;
    }
    const res = await c.send();
    const body = res.json ?? {};
    const problems = [];
    if (res.status !== c.expect) problems.push(`status ${res.status || 'no answer'}`);
    if (body.statusCode !== c.expect || body.error !== STATUS_CODES[c.expect] || body.type !== c.type || typeof body.message !== 'string') {
      problems.push(`body ${JSON.stringify({ statusCode: body.statusCode, error: body.error, type: body.type })}`);
    }
    const keys = Object.keys(body).sort().join(',');
    const expectedKeys = ['error', 'message', 'statusCode', 'type', ...(c.keys ?? [])].sort().join(',');
    if (keys !== expectedKeys) problems.push(`keys ${keys}`);
    if (c.field && !(body.fields ?? []).some((f) => c.field.test(f.path) && typeof f.message === 'string')) problems.push('no field named');
    const text = JSON.stringify(body);
    if ([...needles, futureDob].some((n) => text.includes(n))) problems.push('a patient value in the body');
    results.push({ ...c, ok: problems.length === 0, shown: problems.length ? `${c.label}: ${problems.join(', ')}` : c.label });
  }
  return results;
}

/** Reads the host's log: 5xx answers, stack frames, the webhook secret, patient values. */
function scanLog(log, secret, needles) {
  const lines = stripAnsi(log).split('\n');
  const problems = [];
  const fiveXX = lines.filter((l) => /\b(GET|POST|PUT|PATCH|DELETE)\s+\/\S*\s+5\d\d\b/.test(l));
  if (fiveXX.length) problems.push(`${fiveXX.length} 5xx answer(s) in the log`);
  const frames = lines.filter((l) => /^\s+at\s+\S/.test(l));
  if (frames.length) problems.push(`${frames.length} stack frame line(s) in the log`);
  if (log.includes(secret)) problems.push('the webhook secret is in the log');
  const leaked = needles.filter((n) => log.includes(n));
  if (leaked.length) problems.push(`${leaked.length} patient value(s) in the log`);
  return { problems, fiveXX: fiveXX.length, frames: frames.length };
}

function redact(text, secret, needles) {
  let out = stripAnsi(text).split(secret).join('[secret]');
  for (const n of needles) out = out.split(n).join('[patient]');
  return out;
}

// --- one host ---------------------------------------------------------------------------------

const DATABASE_NAMES = { postgres: 'PostgreSQL', sqlite: 'SQLite', unknown: 'no database driver' };

async function testHost(host, tarball, pgState) {
  const { name, manifest } = host;
  const deps = { ...manifest.dependencies, ...manifest.devDependencies };
  const database = deps.pg ? 'postgres' : deps['better-sqlite3'] ? 'sqlite' : 'unknown';
  const platform = deps['@nestjs/platform-fastify'] ? 'Fastify' : 'express';
  const format = manifest.type === 'module' ? 'ESM' : 'CommonJS';
  const label = (work) =>
    `Nest ${versionOf(work, '@nestjs/core') ?? '?'}, ${format}, TypeORM ${versionOf(work, 'typeorm') ?? '?'}, ${platform}, ${DATABASE_NAMES[database]}`;
  const result = { name, status: 'ok', parts: [], problems: [], details: [] };
  const fail = (problem, detail) => {
    result.status = 'FAIL';
    result.problems.push(problem);
    if (detail) result.details.push(detail);
  };

  if (database === 'postgres' && !pgState.ok) {
    return { ...result, status: 'skip', label: `${format}, ${platform}, PostgreSQL`, parts: [`PostgreSQL not reachable (${pgState.reason})`] };
  }

  progress(name, 'copying the fixture');
  const work = prepareWorkDir(name, tarball);
  const secret = randomBytes(24).toString('base64url');
  const { patient, address, needles } = fakePatient();
  const schema = `${SCHEMA_PREFIX}${name.replace(/\W/g, '_')}_${process.pid}`;
  const dbEnv = {};
  try {
    if (database === 'postgres') {
      await withPg((c) => c.query(`drop schema if exists "${schema}" cascade; create schema "${schema}"`));
      dbEnv.DATABASE_URL = schemaUrl(schema);
    } else {
      mkdirSync(join(work, '.data'), { recursive: true });
      dbEnv.DATABASE_PATH = join(work, '.data', 'host.sqlite');
    }

    progress(name, 'npm install');
    // Peers as npm resolves them by default, made strict: no --legacy-peer-deps, no --force (also
    // not from a user's .npmrc), and a peer conflict anywhere in the tree fails the install.
    const install = await run('npm', ['install', '--no-audit', '--no-fund', '--strict-peer-deps', '--legacy-peer-deps=false', '--force=false', `./vendor/${tarball.file}`], {
      cwd: work,
      env: cleanEnv(),
      timeoutMs: 600_000,
    });
    result.label = label(work);
    if (install.code !== 0) {
      result.parts.push(`install failed after ${secs(install.ms)}`);
      fail(`npm install exited ${install.code}`, `npm install:\n${tail(install.output)}`);
      return result;
    }

    progress(name, 'build and type-check');
    const build = await run('npm', ['run', 'build'], { cwd: work, env: cleanEnv(), timeoutMs: 180_000 });
    if (build.code !== 0) {
      result.parts.push(`install ${secs(install.ms)}`, 'build failed');
      fail(`build exited ${build.code}`, `npm run build:\n${tail(build.output)}`);
      return result;
    }
    const typecheck = await run(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json'], {
      cwd: work,
      env: cleanEnv(),
      timeoutMs: 180_000,
    });
    if (typecheck.code !== 0) fail('type-check of src and tests failed', `tsc --noEmit:\n${tail(typecheck.output)}`);
    result.parts.push(`install ${secs(install.ms)}`, `build ${secs(build.ms + typecheck.ms)}`);

    progress(name, 'the host’s own Jest test');
    const jest = await run('npm', ['test'], { cwd: work, env: cleanEnv({ ...dbEnv, CI: 'true' }), timeoutMs: 300_000 });
    const counts = stripAnsi(jest.output).match(/^Tests:\s+(.*)$/m)?.[1] ?? 'no result';
    if (jest.code !== 0) fail(`jest: ${counts}`, `npm test:\n${tail(redact(jest.output, secret, needles), 60)}`);
    result.parts.push(`jest ${counts.replace(/, \d+ total$/, '')} in ${secs(jest.ms)}`);

    progress(name, 'boot and checks');
    await bootAndCheck({ work, result, fail, secret, patient, address, needles, dbEnv, deps });
  } finally {
    if (database === 'postgres' && !flag('keep-schemas')) {
      await withPg((c) => c.query(`drop schema if exists "${schema}" cascade`)).catch(() => undefined);
    }
  }
  return result;
}

async function bootAndCheck({ work, result, fail, secret, patient, address, needles, dbEnv, deps }) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = cleanEnv({
    ...dbEnv,
    PORT: String(port),
    HOST: '127.0.0.1',
    FULFILMENT_WEBHOOK_SECRET: secret,
    FULFILMENT_SYNC_INTERVAL_MS: String(SYNC_MS),
    SANDBOX_STEP_MS: String(STEP_MS),
  });
  const t0 = Date.now();
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let log = '';
  let exited;
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  const closed = new Promise((r) =>
    child.on('close', (code, signal) => {
      exited = { code, signal };
      children.delete(child);
      r();
    }),
  );
  const logTail = () => `host log (last lines, patient values and secret redacted):\n${tail(redact(log, secret, needles))}`;

  try {
    // Up: /health answers, and CaryRx's callbacks are registered.
    const deadline = Date.now() + 60_000;
    let up = false;
    while (!exited && Date.now() < deadline) {
      if (!up) up = (await http('GET', `${base}/health`)).status === 200;
      if (up && /registered CaryRx webhooks/.test(log)) break;
      await sleep(100);
    }
    if (exited || Date.now() >= deadline) {
      fail(exited ? `host exited (${exited.code ?? exited.signal}) before it was ready` : 'host not ready within 60 s', logTail());
      return;
    }

    const reference = `hm-${letters(8)}`;
    const caryrx = await http('POST', `${base}/checkouts/caryrx`, {
      body: { reference: `${reference}-rx`, patient, address, medication: { name: 'atorvastatin', quantity: 30, daysSupply: 30 } },
    });
    const scriptdrop = await http('POST', `${base}/checkouts/scriptdrop`, {
      body: { reference: `${reference}-sd`, patient, address, rx: { number: `RX${letters(6)}`, ndc: '69618001436', quantity: 30, daysSupply: 30 } },
    });
    // The webhook checks run while the simulators move both orders.
    const hooks = await webhookChecks(base, secret);
    const flows = [];
    const delivered = {};
    for (const [provider, res, source] of [
      ['caryrx', caryrx, 'webhook'],
      ['scriptdrop', scriptdrop, 'sync'],
    ]) {
      if (res.status !== 201 || !res.json?.orderId) {
        flows.push({ ok: false, text: `${provider} checkout answered ${res.status || res.error}` });
        continue;
      }
      const flow = describeFlow(provider, await followOrder(base, res.json.orderId), source);
      if (flow.ok) delivered[provider] = res.json.orderId;
      flows.push(flow);
    }
    for (const f of flows) {
      result.parts.push(f.text);
      if (!f.ok) fail(f.text);
    }
    result.parts.push(`webhooks ${hooks.map((h) => h.shown).join('/')}`);
    const wrong = hooks.filter((h) => !h.ok);
    if (wrong.length) fail(`webhook answers: ${wrong.map((h) => `${h.label} ${h.shown} (expected ${h.expect})`).join(', ')}`);
    const errors = await errorChecks(base, { patient, address, needles }, delivered);
    result.parts.push(`errors ${errors.map((e) => e.shown).join('/')}`);
    const wrongErrors = errors.filter((e) => !e.ok);
    if (wrongErrors.length) fail(`error answers: ${wrongErrors.map((e) => `${e.shown} (expected ${e.expect} ${e.type})`).join(', ')}`);
    for (const check of await observabilityChecks(base, deps)) {
      result.parts.push(check.text);
      if (!check.ok) fail(check.text);
    }
  } finally {
    killGroup(child, 'SIGTERM');
    await Promise.race([closed, sleep(10_000)]);
    if (!exited) {
      killGroup(child, 'SIGKILL');
      await closed;
    }
    const scan = scanLog(log, secret, needles);
    result.parts.push(scan.fiveXX ? `${scan.fiveXX}× 5xx` : 'no 500', scan.frames ? `${scan.frames} stack frame lines` : 'no stack trace');
    for (const p of scan.problems) fail(p);
    result.parts.push(`boot and checks ${secs(Date.now() - t0)}`);
    if (result.status === 'FAIL' && !result.details.some((d) => d.startsWith('host log'))) result.details.push(logTail());
  }
}

// --- main -------------------------------------------------------------------------------------

async function pack() {
  const dest = mkdtempSync(join(tmpdir(), 'nestjs-fulfilment-pack-'));
  const res = await run('npm', ['pack', '-w', 'libs/fulfilment', '--pack-destination', dest, '--json'], {
    cwd: repo,
    env: cleanEnv(),
    timeoutMs: 300_000,
  });
  if (res.code !== 0) throw new Error(`npm pack failed:\n${tail(res.output)}`);
  const file = readdirSync(dest).find((f) => f.endsWith('.tgz'));
  if (!file) throw new Error(`npm pack wrote no tarball:\n${tail(res.output)}`);
  const path = join(dest, file);
  const hash = createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 12);
  // The hash in the name: npm reinstalls whenever the library changed, even at the same version.
  return { dir: dest, path, file: file.replace(/\.tgz$/, `-${hash}.tgz`), ms: res.ms, size: statSync(path).size };
}

async function pool(items, size, fn) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(size, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]);
      }
    }),
  );
  return results;
}

function line(r) {
  return `${r.status} ${r.name} (${r.label ?? '?'}): ${r.parts.join(', ')}`;
}

async function main() {
  const hosts = readdirSync(here, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(here, e.name, 'package.json')))
    .map((e) => ({ name: e.name, manifest: JSON.parse(readFileSync(join(here, e.name, 'package.json'), 'utf8')) }))
    .filter((h) => only.length === 0 || only.includes(h.name));
  if (hosts.length === 0) throw new Error(`no fixture host${only.length ? ` named ${only.join(', ')}` : ''} under ${here}`);
  for (const h of hosts) {
    if (h.manifest.dependencies?.['nestjs-fulfilment'] || h.manifest.devDependencies?.['nestjs-fulfilment']) {
      throw new Error(`${h.name}/package.json must not list nestjs-fulfilment: the runner installs the packed tarball`);
    }
  }
  const shared = sharedAncestor(join(cacheRoot, 'x'));
  if (shared) throw new Error(`${shared} is above the hosts' work directories: a host could load packages from it. Set HOSTS_CACHE_DIR elsewhere.`);
  // --fresh: drop the cached installs, so every range resolves to today's newest again.
  if (flag('fresh')) for (const h of hosts) rmSync(join(cacheRoot, h.name), { recursive: true, force: true });
  mkdirSync(cacheRoot, { recursive: true });

  const [tarball, pgState] = await Promise.all([pack(), postgresReachable()]);
  console.log(`packed ${tarball.file} (${Math.round(tarball.size / 1024)} kB) in ${secs(tarball.ms)}; hosts in ${cacheRoot}, ${jobs} at a time`);
  let results;
  try {
    results = await pool(hosts, jobs, async (host) => {
      let r;
      try {
        r = await testHost(host, tarball, pgState);
      } catch (err) {
        r = { name: host.name, status: 'FAIL', parts: [], problems: [`runner error: ${err instanceof Error ? err.message : String(err)}`], details: [] };
      }
      console.log(line(r));
      if (r.status === 'FAIL') {
        console.log(`  failed: ${r.problems.join('; ')}`);
        for (const d of r.details) console.log(d.replace(/^/gm, '  | '));
      }
      return r;
    });
  } finally {
    rmSync(tarball.dir, { recursive: true, force: true });
  }
  const count = (s) => results.filter((r) => r.status === s).length;
  const skipped = count('skip');
  console.log(`host matrix in ${secs(Date.now() - started)}`);
  console.log(`${count('ok')} passed, ${count('FAIL')} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return count('FAIL') === 0 ? 0 : 1;
}

const stopAll = () => {
  for (const c of children) killGroup(c, 'SIGKILL');
};
process.on('SIGINT', () => {
  stopAll();
  process.exit(130);
});
process.on('SIGTERM', () => {
  stopAll();
  process.exit(143);
});

main().then(
  (code) => process.exit(code),
  (err) => {
    stopAll();
    console.error(`host matrix: ${err instanceof Error ? err.message : String(err)}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
