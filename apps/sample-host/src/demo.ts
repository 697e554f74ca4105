/**
 * `npm run demo [-- --timeout 120 --keep]`: drives the documented flow end to end through the sample host
 * against whatever the environment points at (sandbox simulators by default):
 * CaryRx webhooks, patient, location, prescription, order; ScriptDrop sameday, ondemand and shipping
 * deliveries and one cancel. Prints a line per step with its timing, a live status board until
 * every order is terminal, then each order's status timeline. Exit 0 when every order reached the
 * terminal status expected of it; otherwise 1 with the reason. Without DATABASE_URL it works in a
 * SQLite file of its own under data/, removed at exit unless `--keep`.
 */
import 'reflect-metadata';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import {
  FulfilmentService,
  ProviderEndpoints,
  isTerminal,
  type FulfilmentOrderView,
  type FulfilmentStatus,
} from 'nestjs-fulfilment';
import { AppModule } from './app.module.js';
import { configureApp } from './configure-app.js';
import { demoDeliveries, demoLocation, demoPatient, demoPrescription } from './demo-data.js';

interface TrackedOrder {
  label: string;
  expected: FulfilmentStatus;
  orderId?: string;
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const print = (line: string) => process.stdout.write(`${line}\n`);

function parseTimeout(argv: string[]): number {
  const i = argv.indexOf('--timeout');
  const value = i >= 0 ? Number(argv[i + 1]) : 120;
  if (!Number.isFinite(value) || value <= 0) throw new Error('--timeout takes a number of seconds, e.g. --timeout 60');
  return value;
}

/** A SQLite database is its file plus, in WAL mode, the -wal and -shm files beside it. */
function removeSqliteFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs one step, printing its name, result and duration; a failure is printed and rethrown. */
async function step<T>(name: string, run: () => Promise<T>, describe: (value: T) => string = () => 'ok'): Promise<T> {
  const t0 = Date.now();
  try {
    const value = await run();
    print(`  ✓ ${name.padEnd(44)} ${describe(value).padEnd(36)} ${String(Date.now() - t0).padStart(5)} ms`);
    return value;
  } catch (err) {
    print(`  ✗ ${name.padEnd(44)} ${(err as Error).message}`);
    throw err;
  }
}

async function until(check: () => Promise<boolean>, deadline: number, what: string): Promise<void> {
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function board(orders: TrackedOrder[], rows: Map<string, FulfilmentOrderView>): string[] {
  return orders.map((o) => {
    const row = o.orderId ? rows.get(o.orderId) : undefined;
    const status = row?.status ?? 'not created';
    const mark = row && isTerminal(row.status) ? (row.status === o.expected ? '✓' : '✗') : '…';
    return `  ${mark} ${o.label.padEnd(22)} ${status.padEnd(16)} ${(row?.providerStatus ?? '').padEnd(22)} expected ${o.expected}`;
  });
}

async function main(): Promise<number> {
  const timeoutSeconds = parseTimeout(process.argv.slice(2));
  const deadline = started + timeoutSeconds * 1000;
  const external = Boolean(process.env.CARYRX_BASE_URL || process.env.SCRIPTDROP_BASE_URL);
  const port = process.env.PORT ? Number(process.env.PORT) : await freePort();
  process.env.PORT = String(port);
  process.env.FULFILMENT_PUBLIC_URL ??= `http://127.0.0.1:${port}`;
  let databaseNote = '';
  if (!process.env.DATABASE_URL) {
    const file = `data/demo-${Date.now()}.sqlite`;
    process.env.DATABASE_URL = `sqlite:${file}`;
    const keep = process.argv.includes('--keep');
    databaseNote = keep ? ' (kept: --keep)' : ' (removed at exit; --keep keeps it)';
    // On every way out (done, failed, watchdog): 'exit' handlers run even after process.exit().
    if (!keep) process.on('exit', () => removeSqliteFiles(file));
  }
  process.env.FULFILMENT_SANDBOX_STEP_MS ??= '700';
  process.env.FULFILMENT_SYNC_INTERVAL_MS ??= '1000';
  // The demo is a host of its own: outside sandbox it still needs a token for its callbacks.
  if (external) process.env.FULFILMENT_WEBHOOK_SECRET ??= randomBytes(24).toString('base64url');
  process.env.FULFILMENT_REGISTER_WEBHOOKS = 'false';

  print(`nestjs-fulfilment demo: ${external ? 'external providers from the environment' : 'sandbox (in-process simulators)'}, ` +
    `database ${process.env.DATABASE_URL.replace(/\/\/[^@]*@/, '//…@')}${databaseNote}, timeout ${timeoutSeconds}s`);

  const app: INestApplication = configureApp(await NestFactory.create(AppModule, { logger: ['error'] }));
  await app.listen(port, '127.0.0.1');
  const watchdog = setTimeout(() => {
    print(`\n✗ demo timed out after ${timeoutSeconds}s (see the steps and board above for what did not complete)`);
    process.exit(1);
  }, timeoutSeconds * 1000 + 2000);
  watchdog.unref();

  const fulfilment = app.get(FulfilmentService);
  const endpoints = app.get(ProviderEndpoints);
  const orders: TrackedOrder[] = [];
  const failures: string[] = [];
  const attempt = async (name: string, run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  };

  print('\nSteps');
  await attempt('CaryRx flow', async () => {
    if (!endpoints.caryrx) throw new Error('CaryRx is not configured (set CARYRX_BASE_URL and CARYRX_API_KEY)');
    await step('register CaryRx webhooks', () => fulfilment.caryrx.registerWebhooks(), (r) => r.map((x) => x.topic).join(' + '));
    await step('receive both registration test payloads', () =>
      until(
        async () => {
          const registrations = await fulfilment.caryrx.webhookRegistrations();
          return registrations.length === 2 && registrations.every((r) => r.confirmedAt);
        },
        Math.min(deadline, Date.now() + 15_000),
        'the registration test payloads',
      ),
    );
    const link = await step('create patient', () => fulfilment.caryrx.ensurePatient('demo-patient-1', demoPatient), (l) => `caryrx ${l.providerPatientId}`);
    const location = await step('create patient location', () => fulfilment.caryrx.addLocation('demo-patient-1', demoLocation), (l) => `caryrx ${l.providerLocationId}`);
    const rx = await step(
      'create prescription (development only)',
      () => fulfilment.caryrx.createPrescription({ ...demoPrescription, patientId: link.providerPatientId! }),
      (p) => `caryrx ${p.providerPrescriptionId}`,
    );
    const tracked: TrackedOrder = { label: 'CaryRx order', expected: 'delivered' };
    orders.push(tracked);
    const { order } = await step(
      'create CaryRx order (sameday_delivery)',
      () =>
        fulfilment.caryrx.placeOrder({
          idempotencyKey: `demo-${started}-caryrx`,
          hostReference: 'demo-checkout-caryrx',
          patientHostReference: 'demo-patient-1',
          locationId: location.id,
          prescriptionIds: [rx.providerPrescriptionId],
          shippingMethod: 'sameday_delivery',
        }),
      (r) => `caryrx ${r.order.providerOrderId} (${r.order.status})`,
    );
    tracked.orderId = order.id;
  });

  await attempt('ScriptDrop flow', async () => {
    if (!endpoints.scriptdrop) throw new Error('ScriptDrop is not configured (set SCRIPTDROP_BASE_URL, _API_KEY, _API_SECRET)');
    for (const level of ['sameday', 'ondemand', 'shipping'] as const) {
      const tracked: TrackedOrder = { label: `ScriptDrop ${level}`, expected: 'delivered' };
      orders.push(tracked);
      const { order } = await step(
        `create ScriptDrop ${level} delivery`,
        () => fulfilment.scriptdrop.createDelivery({ idempotencyKey: `demo-${started}-${level}`, hostReference: `demo-${level}`, order: demoDeliveries[level]() }),
        (r) => `scriptdrop ${r.order.providerOrderId} (${r.order.status})`,
      );
      tracked.orderId = order.id;
    }
    const cancelled: TrackedOrder = { label: 'ScriptDrop cancelled', expected: 'cancelled' };
    orders.push(cancelled);
    const { order } = await step(
      'create a sameday delivery to cancel',
      () => fulfilment.scriptdrop.createDelivery({ idempotencyKey: `demo-${started}-cancel`, hostReference: 'demo-cancel', order: demoDeliveries.sameday() }),
      (r) => `scriptdrop ${r.order.providerOrderId}`,
    );
    cancelled.orderId = order.id;
    await step('cancel it', () => fulfilment.cancelOrder(order.id), (o) => o.status);
  });

  // Live board: redrawn in place on a terminal, a new block on each change otherwise.
  print('\nStatus board (webhooks and the status sync move these)');
  const tty = process.stdout.isTTY;
  let previous = '';
  let drawn = 0;
  const readRows = async () => {
    const rows = new Map<string, FulfilmentOrderView>();
    for (const o of orders) if (o.orderId) rows.set(o.orderId, await fulfilment.getOrder(o.orderId));
    return rows;
  };
  let rows = await readRows();
  for (;;) {
    const lines = board(orders, rows);
    const text = lines.join('\n');
    if (text !== previous) {
      if (tty && drawn) process.stdout.write(`\x1b[${drawn}A\x1b[J`);
      print(tty ? text : `  [${elapsed()}]\n${text}`);
      drawn = lines.length;
      previous = text;
    }
    const open = orders.filter((o) => o.orderId && !isTerminal(rows.get(o.orderId)!.status));
    if (open.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
    rows = await readRows();
  }

  print('\nTimelines');
  for (const o of orders) {
    if (!o.orderId) {
      print(`  ${o.label}: not created`);
      continue;
    }
    const row = rows.get(o.orderId)!;
    print(`  ${o.label} (${row.provider} ${row.providerOrderId ?? '-'}, local ${row.id})`);
    for (const h of await fulfilment.getOrderHistory(o.orderId)) {
      print(`    ${h.occurredAt.toISOString().slice(11, 23)}  ${(h.fromStatus ?? '-').padEnd(16)} → ${h.toStatus.padEnd(16)} ${(h.toProviderStatus ?? '').padEnd(22)} via ${h.source}`);
    }
    if (!isTerminal(row.status)) failures.push(`${o.label} is still ${row.status} (expected ${o.expected})`);
    else if (row.status !== o.expected) failures.push(`${o.label} ended ${row.status} (expected ${o.expected})`);
  }

  await app.close();
  if (failures.length > 0) {
    print(`\n✗ demo did not complete in ${elapsed()}:`);
    for (const f of failures) print(`  - ${f}`);
    return 1;
  }
  print(`\n✓ every order reached its expected status in ${elapsed()}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    print(`✗ demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
