import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { INestApplication } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { getDataSourceToken } from '@nestjs/typeorm';
import { chromium, type Browser, type Page } from 'playwright-core';
import { FulfilmentService, StatusSyncService } from 'nestjs-fulfilment';
import { startSampleHost } from '../support/sample-host.js';
import { demoDeliveries, demoLocation, demoPatient, demoPrescription } from '../../apps/sample-host/src/demo-data.js';
import { createTestDatabaseUrl } from '../support/test-database.js';
import { HOSTILE, seedFailedOrderEvent, seedHostileOrder, seedOrder } from './support.js';

/** Debian's `chromium` package (`.ci/run` installs it); CHROMIUM_PATH for another. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/**
 * Screenshots of each page: into docs/ops/ (the README's) with UPDATE_SCREENSHOTS=1, otherwise into
 * a temporary directory, so a test run leaves the committed images alone.
 */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(process.cwd(), 'docs', 'ops') : join(tmpdir(), `ops-screenshots-${process.pid}`);
const USER = 'ops';
const PASSWORD = 'correct-horse-battery';
const HOST_ENV = ['DATABASE_URL', 'FULFILMENT_PUBLIC_URL', 'OPS_BASIC_AUTH', 'OPS_CSRF_SECRET', 'FULFILMENT_SANDBOX_STEP_MS', 'FULFILMENT_SYNC_INTERVAL_MS', 'CARYRX_BASE_URL', 'SCRIPTDROP_BASE_URL'];

const browserHere = existsSync(CHROMIUM);
// Straight to stderr: Jest shows no console output of a suite whose tests are all skipped.
if (!browserHere) process.stderr.write(`ops-browser.spec.ts skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`);

/**
 * The sample host with OPS_BASIC_AUTH, driven in headless Chromium with JavaScript off (the
 * console has none): sign in, find an order, open its timeline, replay a failed event, resolve an
 * unknown order, read the sync page; hostile values checked in the DOM. Saves the README's screenshots.
 */
(browserHere ? describe : describe.skip)('ops console in a browser (sample host, HTTP Basic)', () => {
  const saved = Object.fromEntries(HOST_ENV.map((k) => [k, process.env[k]]));
  let db: { url: string; cleanup: () => Promise<void> };
  let app: INestApplication;
  let base: string;
  let browser: Browser;
  let page: Page;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabaseUrl();
    for (const k of HOST_ENV) delete process.env[k];
    Object.assign(process.env, { DATABASE_URL: db.url, OPS_BASIC_AUTH: `${USER}:${PASSWORD}`, FULFILMENT_SANDBOX_STEP_MS: '0', FULFILMENT_SYNC_INTERVAL_MS: '1000' });
    // The app module reads OPS_BASIC_AUTH when it loads: startSampleHost loads it now.
    let port: number;
    ({ app, port } = await startSampleHost());
    base = `http://127.0.0.1:${port}/ops`;
    dataSource = app.get<DataSource>(getDataSourceToken());
    // Each launch gets a fresh temporary profile from Playwright; the network is closed, so nothing is fetched.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD }, javaScriptEnabled: false, viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await db?.cleanup();
    if (process.env.UPDATE_SCREENSHOTS !== '1') rmSync(SCREENSHOTS, { recursive: true, force: true });
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  it('asks for credentials and shows nothing without them', async () => {
    const anonymous = await browser.newContext({ javaScriptEnabled: false });
    try {
      // Through the context's own HTTP client: headless Chromium cancels the credentials prompt.
      const answer = await anonymous.request.get(`${base}/orders`);
      expect(answer.status()).toBe(401);
      expect(answer.headers()['www-authenticate']).toMatch(/^Basic realm=/);
      expect(await answer.text()).not.toContain('<table');
    } finally {
      await anonymous.close();
    }
  });

  it('finds an order by host reference and opens its timeline', async () => {
    const fulfilment = app.get(FulfilmentService);
    const { order } = await fulfilment.scriptdrop.createDelivery({ idempotencyKey: 'ops-browser-1', hostReference: 'checkout-ops-1042', order: demoDeliveries.sameday() });
    for (let i = 0; i < 6; i++) {
      await seedOrder(dataSource, { provider: i % 2 ? 'caryrx' : 'scriptdrop', providerOrderId: `seed-${i}`, hostReference: `checkout-ops-${1030 + i}`, status: (['accepted', 'in_transit', 'delivered'] as const)[i % 3], providerStatus: ['new', 'shipped', 'delivered'][i % 3], createdAt: new Date(Date.now() - (i + 1) * 3_600_000) });
    }
    const answer = await page.goto(`${base}/orders`);
    expect(answer?.status()).toBe(200);
    expect(await page.locator('.operator').innerText()).toBe(`signed in as ${USER}`);
    await shot('orders');

    await page.fill('input[name="q"]', 'checkout-ops-1042');
    await page.click('button[type="submit"]');
    expect(await page.locator('table.orders tbody tr').count()).toBe(1);
    await page.click(`a[href$="/orders/${order.id}"]`);
    expect(page.url()).toBe(`${base}/orders/${order.id}`);
    expect(await page.locator('table.timeline tbody tr').first().innerText()).toContain('create');
    expect(await page.locator('h1').innerText()).toContain(order.id);
  });

  it('replays a failed inbox event and sees its outcome change', async () => {
    // A CaryRx order placed for real (its timeline starts at create), and an event for it that failed to apply.
    const caryrx = app.get(FulfilmentService).caryrx;
    const link = await caryrx.ensurePatient('ops-patient-1', demoPatient);
    const location = await caryrx.addLocation('ops-patient-1', demoLocation);
    const rx = await caryrx.createPrescription({ ...demoPrescription, patientId: link.providerPatientId! });
    const { order } = await caryrx.placeOrder({ idempotencyKey: 'ops-browser-caryrx', hostReference: 'checkout-ops-7731', patientHostReference: 'ops-patient-1', locationId: location.id, prescriptionIds: [rx.providerPrescriptionId] });
    const providerOrderId = order.providerOrderId!;
    const event = await seedFailedOrderEvent(dataSource, providerOrderId, 'shipped', 'failed', new Date());
    await page.goto(`${base}/webhooks?outcome=failed`);
    const row = page.locator('table.events tbody tr', { hasText: providerOrderId });
    expect(await row.locator('.outcome').innerText()).toBe('failed');
    await shot('webhooks');
    await row.locator('button', { hasText: 'Replay' }).click();
    expect(page.url()).toBe(`${base}/orders/${order.id}?done=replayed&result=applied`);
    expect(await page.locator('.notice').innerText()).toBe('Event replayed. Outcome: applied.');
    const replayed = page.locator('table.events tbody tr', { hasText: event.providerStatus! });
    expect(await replayed.locator('.outcome').innerText()).toBe('applied');
    const last = page.locator('table.timeline tbody tr').last();
    expect(await last.innerText()).toMatch(/accepted → in_transit[\s\S]*ops[\s\S]*ops/);
    expect(await page.locator('table.timeline tbody tr').first().innerText()).toContain('create');
    await shot('order');
    await page.goto(`${base}/webhooks?outcome=failed`);
    expect(await page.locator('table.events tbody tr', { hasText: providerOrderId }).count()).toBe(0);
  });

  it('resolves an unknown order', async () => {
    const order = await seedOrder(dataSource, { provider: 'caryrx', providerOrderId: null, hostReference: 'checkout-ops-unknown', status: 'unknown', lastError: 'create timed out after it was sent' });
    await page.goto(`${base}/orders?status=unknown`);
    await page.click(`a[href$="/orders/${order.id}"]`);
    await page.click('button:has-text("Close as not created")');
    expect(await page.locator('.notice').innerText()).toBe('Closed as not created.');
    expect(await page.locator('h1 .status').innerText()).toBe('not_created');
    expect(await page.locator('table.timeline tbody tr').last().innerText()).toMatch(/unknown → not_created[\s\S]*ops\s+ops/);
    expect((await app.get(FulfilmentService).getOrderHistory(order.id)).at(-1)).toMatchObject({ source: 'ops', actor: USER });
  });

  it('shows the sync page with the last ticks', async () => {
    await app.get(StatusSyncService).runOnce();
    await page.goto(`${base}/sync`);
    expect(await page.locator('h1').innerText()).toBe('Status sync');
    expect(await page.locator('table.ticks tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('.facts').innerText()).toContain('Due now');
    await shot('sync');
  });

  it('renders hostile values as text: the DOM holds no element from the data', async () => {
    const order = await seedHostileOrder(dataSource);
    for (const url of [`${base}/orders/${order.id}`, `${base}/orders?q=${encodeURIComponent(HOSTILE.hostReference)}`]) {
      await page.goto(url);
      for (const selector of ['script', 'img', 'iframe', 'object', 'embed', 'b', 'a[href^="javascript:"]', '[onerror]']) expect(await page.locator(selector).count()).toBe(0);
      const text = await page.locator('main').innerText();
      expect(text).toContain(HOSTILE.providerStatus);
      expect(text).toContain(HOSTILE.hostReference);
    }
    expect(await page.locator('main').innerText()).toContain(HOSTILE.providerOrderId);
  });
});
