import { afterAll, beforeAll } from '@jest/globals';
import { Logger, type INestApplication, type LogLevel, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { EventEmitterModule } from '@nestjs/event-emitter';
import type { DataSource } from 'typeorm';
import { inspect } from 'node:util';
import { LogLines } from '../support/log-lines.js';
import {
  FulfilmentModule,
  FulfilmentOrder,
  OrderStatusHistory,
  WebhookInboxEvent,
  type CaryRxLocationInput,
  type CaryRxPatientInput,
  type FulfilmentModuleOptions,
  type ScriptDropOrderInput,
} from 'nestjs-fulfilment';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/**
 * The reliability suite's shared pieces: known fake credentials and patient values used by every
 * app and request of the suite, a capture of EVERY log line (Nest loggers at all levels, console,
 * stdout/stderr, child processes), the scan that none of those values leaked, and the app boot.
 */

export const FAKE = {
  caryrxApiKey: 'ck_live_RELIAB7f3a9cKEY',
  scriptdropApiKey: 'pk_reliab4b8e2dKEY',
  scriptdropApiSecret: 'sk_reliab91ceSECRETx',
  webhookSecret: 'whsec-reliab-0123456789abcdef',
  firstName: 'Zephyrine',
  lastName: 'Quillfeather',
  dob: '1961-07-23',
  street: '742 Evergreen Quasar Terrace',
  phone: '5558675309',
  homePhone: '5554441212',
  email: 'zephyrine.quill@example.test',
} as const;

/** Every value that must never appear in a log line, with the encodings a leak could take. */
export function secretNeedles(): string[] {
  const basic = Buffer.from(`${FAKE.scriptdropApiKey}:${FAKE.scriptdropApiSecret}`).toString('base64');
  const values: string[] = [...Object.values(FAKE), basic, `${FAKE.firstName} ${FAKE.lastName}`, `${FAKE.firstName.toUpperCase()} ${FAKE.lastName.toUpperCase()}`];
  const variants = values.flatMap((v) => [v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1)]);
  return [...new Set(variants)];
}

// --- log capture ---------------------------------------------------------------------------------

export const ALL_LOG_LEVELS: LogLevel[] = ['log', 'error', 'warn', 'debug', 'verbose', 'fatal'];

/** Every captured line, with where it came from. */
export const captured: Array<{ source: string; line: string }> = [];

/** A Nest logger that records every level (nothing printed: the suite stays quiet). */
export const captureLogger = new LogLines((level, line) => captured.push({ source: `nest:${level}`, line }));

/** Records a chunk of process output (also used for a child process's stdout/stderr). */
export function captureOutput(source: string, chunk: unknown): void {
  const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk);
  for (const line of text.split('\n')) if (line.trim() !== '') captured.push({ source, line });
}

type Restore = () => void;

/** Patches console.* and process.stdout/stderr.write: everything is recorded, then passed on. */
function installCapture(): Restore {
  const restores: Restore[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    const name = stream === process.stdout ? 'stdout' : 'stderr';
    stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      captureOutput(name, chunk);
      return (original as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as typeof stream.write;
    restores.push(() => (stream.write = original));
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      captured.push({ source: `console.${method}`, line: args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 8 }))).join(' ') });
      original.apply(console, args);
    };
    restores.push(() => (console[method] = original));
  }
  return () => restores.reverse().forEach((r) => r());
}

export function findLeaks(lines = captured): Array<{ source: string; needle: string; line: string }> {
  const needles = secretNeedles();
  const leaks: Array<{ source: string; needle: string; line: string }> = [];
  for (const { source, line } of lines) {
    for (const needle of needles) {
      // The line itself is not shown in the report: it holds the leaked value.
      if (line.includes(needle)) leaks.push({ source, needle: `${needle.slice(0, 3)}…(${needle.length} chars)`, line: line.replace(needle, '[LEAK]').slice(0, 300) });
    }
  }
  return leaks;
}

/**
 * Installs the capture for this test file (before anything boots) and, once the file's apps are
 * closed, scans every line (shutdown included) and restores the streams. Call it once at the top
 * level of the file, outside its describe: a top-level beforeAll runs before the describe's, a
 * top-level afterAll after the describe's.
 */
export function useLogCapture(): void {
  let restore: Restore | undefined;
  beforeAll(() => {
    captured.length = 0;
    restore = installCapture();
  });
  afterAll(() => {
    restore?.();
    const leaks = findLeaks();
    if (leaks.length > 0) throw new Error(`log scan: ${leaks.length} leaked values, e.g. ${JSON.stringify(leaks.slice(0, 5))}`);
  });
}

// --- app boot ------------------------------------------------------------------------------------

export interface ReliabilityApp {
  app: INestApplication;
  url: string;
  db: TestDatabase;
  dataSource: DataSource;
  close(): Promise<void>;
}

/**
 * A Nest app with the module on a fresh test database (or `db`), every log level going to the
 * capture logger, listening on a loopback port.
 */
export async function bootApp(
  options: FulfilmentModuleOptions,
  extra: { db?: TestDatabase; imports?: ModuleMetadata['imports'] } = {},
): Promise<ReliabilityApp> {
  const db = extra.db ?? (await createTestDatabase());
  const moduleRef = await Test.createTestingModule({
    imports: [TypeOrmModule.forRoot(db.options), EventEmitterModule.forRoot({ wildcard: true }), FulfilmentModule.forRoot(options), ...(extra.imports ?? [])],
  })
    .setLogger(captureLogger)
    .compile();
  const app = moduleRef.createNestApplication({ logger: captureLogger });
  app.useLogger(captureLogger);
  Logger.overrideLogger(ALL_LOG_LEVELS);
  app.enableShutdownHooks();
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    db,
    dataSource: app.get<DataSource>(getDataSourceToken()),
    close: async () => {
      await app.close();
      if (!extra.db) await db.cleanup();
    },
  };
}

/** Rows of the three tables a rejected webhook must not touch. */
export async function storedCounts(dataSource: DataSource): Promise<{ inbox: number; orders: number; history: number }> {
  const [inbox, orders, history] = await Promise.all([
    dataSource.manager.count(WebhookInboxEvent),
    dataSource.manager.count(FulfilmentOrder),
    dataSource.manager.count(OrderStatusHistory),
  ]);
  return { inbox, orders, history };
}

// --- inputs carrying the fake patient values ---------------------------------------------------------

export const fakePatient = (): CaryRxPatientInput => ({
  firstName: FAKE.firstName,
  lastName: FAKE.lastName,
  dob: FAKE.dob,
  email: FAKE.email,
  phoneNumber: FAKE.phone,
});

export const fakeLocation = (): CaryRxLocationInput => ({
  locationName: 'home',
  street1: FAKE.street,
  city: 'Columbus',
  state: 'OH',
  zip: '43210',
});

/** A valid ScriptDrop sameday delivery for the fake patient (no external reference: the key is sent). */
export const fakeDelivery = (): ScriptDropOrderInput => ({
  serviceLevel: 'sameday',
  deliveryFee: 5,
  rxAmountDue: 2,
  deliveryNotes: 'Leave at the front desk',
  pharmacy: { npi: '1234567890', ncpdp: '1234567' },
  recipient: {
    description: `${FAKE.firstName} ${FAKE.lastName}`,
    mobilePhoneNumber: FAKE.phone,
    homePhoneNumber: FAKE.homePhone,
    isPatient: true,
    address: { street: FAKE.street, city: 'Columbus', state: 'OH', zipcode: '43210' },
  },
  patient: {
    firstName: FAKE.firstName,
    lastName: FAKE.lastName,
    gender: 'female',
    dateOfBirth: FAKE.dob,
    mobilePhoneNumber: FAKE.phone,
    homePhoneNumber: FAKE.homePhone,
  },
  prescriptions: [
    {
      number: '897234',
      ndc: '69618001436',
      refrigeration: 'none',
      daysSupply: 30,
      fillQuantity: 30,
      fillNumber: 1,
      patientPay: 50,
      prescriber: {
        firstName: 'Prescriber',
        lastName: 'Last',
        npi: '1234567890',
        address: { street: '1231 Street', city: 'Columbus', state: 'OH', zipcode: '43210' },
      },
      payers: [{ bin: '1112', pcn: '2222', rxGroup: '123456', coverageType: 'primary', governmentPlanIndicator: false }],
    },
  ],
});

/**
 * The normalised status each CaryRx simulator status must end at: written out here, not read from
 * the library, so the suites check the module's mapping against a table of their own.
 */
export const CARYRX_NORMALISED_STATUS: Record<string, string> = {
  pending: 'accepted',
  ready_to_fill: 'accepted',
  filled: 'accepted',
  shipped: 'in_transit',
  delivered: 'delivered',
  delivery_failed: 'delivery_failed',
};

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Polls `check` until true (no fixed sleeps in assertions). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Asserts the capture saw real traffic (so the scan cannot pass vacuously) and no leak. */
export function logScanSummary(): { lines: number; leaks: ReturnType<typeof findLeaks> } {
  return { lines: captured.length, leaks: findLeaks() };
}
