import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { FulfilmentService, FulfilmentValidationError, WebhookInboxEvent, type FulfilmentModuleOptions } from 'nestjs-fulfilment';
import { CaryRxSimulator, ScriptDropSimulator } from 'nestjs-fulfilment/testing';
import { postRaw, type RawAnswer } from '../support/raw-http.js';
import { TEST_ADAPTERS, createTestApp, type TestAdapter, type TestApp } from '../support/test-app.js';
import { FAKE, bootApp, captureLogger, captured, fakeDelivery, fakeLocation, fakePatient, findLeaks, secretNeedles, storedCounts, useLogCapture, type ReliabilityApp } from './support.js';

/**
 * A table-driven corpus of bad webhook bodies and bad client inputs. A webhook is answered 4xx with a
 * message (never 5xx; 2xx only for a valid body with extra fields) and stores nothing, with the same
 * status and body on express and on Fastify; a client input throws FulfilmentValidationError naming
 * the field path, and no request reaches the provider.
 */

type Topic = 'orders' | 'prescriptions';
/** `tolerated`: a valid body with extras (2xx, one inbox row, no order touched); `400|tolerated`: either is right. */
type Expected = 400 | 401 | 413 | 415 | 'tolerated' | '400|tolerated';

interface WebhookCase {
  name: string;
  topic: Topic;
  /** Sent verbatim. */
  raw: string;
  /** Query string; default `token=<secret>`. */
  query?: string;
  /** Default `application/json`; null sends none. */
  contentType?: string | null;
  /** Streamed, without a content-length. */
  chunked?: boolean;
  expected: Expected;
  /** A field path the 400 must name. */
  path?: string;
  /** Known library bug (see the report): the case runs as it.failing. */
  bug?: string;
}

// The library bugs this corpus found (deep nesting → 500, odd unicode ids accepted, `patient: []`
// accepted, RangeError from deep client input) are fixed; their cases now run as plain tests.

const TOKEN = `token=${encodeURIComponent(FAKE.webhookSecret)}`;
let seq = 0;
const uid = (prefix: string) => `${prefix}${(seq++).toString(36)}`;
const iso = () => new Date().toISOString();
/** Valid bodies (ids that match no stored order: a tolerated case stores one inbox row, nothing else). */
const validBody = (topic: Topic): Record<string, unknown> =>
  topic === 'orders'
    ? { id: uid('bo'), order_status: 'shipped', updated_at: iso() }
    : { id: uid('bp'), status: 'verified', updated_at: iso(), patient: { entity_type: 'patient', id: 'p0' } };
const json = (v: unknown) => JSON.stringify(v);
const deepObject = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

function webhookCorpus(): WebhookCase[] {
  const cases: WebhookCase[] = [];
  const topics: Topic[] = ['orders', 'prescriptions'];

  // 1. Not JSON at all (sent as application/json).
  const invalidJson = [
    '{',
    '}',
    '{"id":',
    '{"id":"x",}',
    "{'id':'x','order_status':'shipped'}",
    '{"id":"x" "order_status":"shipped"}',
    '{id:"x",order_status:"shipped"}',
    'undefined',
    'NaN',
    '{"id":NaN,"order_status":"shipped"}',
    '{"id":Infinity,"order_status":"shipped"}',
    '{"id":"x","order_status":"shipped"}garbage',
    '{"a":1}{"b":2}',
    '{"id":"\\x41","order_status":"shipped"}',
    '{"id":"\\u12","order_status":"shipped"}',
    '<order><id>x</id></order>',
    'id=x&order_status=shipped',
    '{"id":"x","order_status":"shipped"',
    '[1,2',
    '{"id":"x",,"order_status":"shipped"}',
    '{"id":"x\ny","order_status":"shipped"}',
    '\u0000',
  ];
  for (const topic of topics) for (const raw of invalidJson) cases.push({ name: `invalid JSON ${json(raw.slice(0, 30))}`, topic, raw, expected: 400 });

  // 2. JSON, but not an object.
  for (const topic of topics) {
    for (const raw of ['null', '123', '"a string"', 'true', 'false', '[]', '[{"id":"x","order_status":"shipped"}]', '-0', '1e400']) {
      cases.push({ name: `not an object: ${raw.slice(0, 30)}`, topic, raw, expected: 400 });
    }
  }

  // 3. Wrong types, field by field.
  const requiredString = [123, true, {}, [], null, '', 0];
  const optionalString = [123, true, {}, [1]];
  const timestamp = ['yesterday', '2020-13-45T25:61:00Z', 12345, true, {}];
  const list = ['x', 5, {}, [5], ['x'], [{}], [{ id: 5 }], [{ id: '' }]];
  const ref = ['x', 5, [], {}, { id: 5 }, { id: '' }, { id: 'p', created_at: 'not a date' }];
  const typed: Record<Topic, Array<[string, unknown[]]>> = {
    orders: [
      ['id', requiredString],
      ['order_status', requiredString],
      ['shipping_method', optionalString],
      ['shipment_tracking_url', optionalString],
      ['shipment_tracking_eta', optionalString],
      ['created_at', timestamp],
      ['updated_at', timestamp],
      ['updatedAt', timestamp],
      ['prescriptions', list],
      ['patient', ref],
    ],
    prescriptions: [
      ['id', requiredString],
      ['status', optionalString],
      ['updated_at', timestamp],
      ['updatedAt', timestamp],
      ['patient', ref],
    ],
  };
  for (const topic of topics) {
    for (const [field, values] of typed[topic]) {
      for (const value of values) {
        // Patient values ride along: a rejection must not echo them.
        const body = { ...validBody(topic), address_to_name: `${FAKE.firstName} ${FAKE.lastName}`, [field]: value };
        cases.push({ name: `${field} = ${json(value)}`, topic, raw: json(body), expected: 400, path: field });
      }
    }
  }

  // 4. Missing required fields.
  const missing: Array<[Topic, Record<string, unknown>, string]> = [
    ['orders', {}, 'id'],
    ['orders', { id: 'x1' }, 'order_status'],
    ['orders', { order_status: 'shipped' }, 'id'],
    ['orders', { updated_at: iso() }, 'id'],
    ['orders', { order_status: 'shipped', updated_at: iso(), patient: { id: 'p' } }, 'id'],
    ['orders', { id: 'x2', updated_at: iso(), shipment_tracking_url: 'https://t.example/x' }, 'order_status'],
    ['prescriptions', {}, 'id'],
    ['prescriptions', { status: 'verified' }, 'id'],
    ['prescriptions', { patient: { id: 'p' }, updated_at: iso() }, 'id'],
  ];
  for (const [topic, body, path] of missing) cases.push({ name: `missing ${path}: ${json(body).slice(0, 40)}`, topic, raw: json(body), expected: 400, path });

  // 5. Extra fields on a valid body: tolerated, dropped.
  for (const topic of topics) {
    cases.push({ name: 'extra vendor field', topic, raw: json({ ...validBody(topic), vendor_field: 'x', another: { nested: [1, 2] } }), expected: 'tolerated' });
    cases.push({ name: 'extra field inside patient', topic, raw: json({ ...validBody(topic), patient: { id: 'p1', unknown: 'y' } }), expected: 'tolerated' });
    cases.push({ name: '__proto__ key', topic, raw: json(validBody(topic)).replace(/^\{/, '{"__proto__":{"polluted":"yes"},'), expected: 'tolerated' });
    cases.push({ name: 'constructor.prototype key', topic, raw: json({ ...validBody(topic), constructor: { prototype: { polluted: 'yes' } } }), expected: 'tolerated' });
    cases.push({
      name: 'address fields with patient values (kept out of the inbox)',
      topic,
      raw: json({ ...validBody(topic), address_to_name: `${FAKE.firstName} ${FAKE.lastName}`, address_to_street1: FAKE.street, email: FAKE.email }),
      expected: 'tolerated',
    });
  }

  // 6. Huge strings and bodies (default maxBodyBytes: 64 KiB).
  for (const topic of topics) {
    cases.push({ name: 'id of 65 characters', topic, raw: json({ ...validBody(topic), id: 'x'.repeat(65) }), expected: 400, path: 'id' });
    cases.push({ name: 'id of 10,000 characters', topic, raw: json({ ...validBody(topic), id: 'x'.repeat(10_000) }), expected: 400, path: 'id' });
    cases.push({ name: 'status of 65 characters', topic, raw: json({ ...validBody(topic), [topic === 'orders' ? 'order_status' : 'status']: 's'.repeat(65) }), expected: 400, path: topic === 'orders' ? 'order_status' : 'status' });
    cases.push({ name: 'body of 70 KB', topic, raw: json({ ...validBody(topic), filler: 'f'.repeat(70_000) }), expected: 413 });
    cases.push({ name: 'body of 200 KB', topic, raw: json({ ...validBody(topic), filler: 'f'.repeat(200_000) }), expected: 413 });
    cases.push({ name: 'body of 2 MB', topic, raw: json({ ...validBody(topic), filler: 'f'.repeat(2_000_000) }), expected: 413 });
    cases.push({ name: 'id of 70 KB', topic, raw: json({ ...validBody(topic), id: 'i'.repeat(70_000) }), expected: 413 });
  }
  cases.push({ name: 'tracking URL of 2,049 characters', topic: 'orders', raw: json({ ...validBody('orders'), shipment_tracking_url: `https://t.example/${'u'.repeat(2031)}` }), expected: 400, path: 'shipment_tracking_url' });

  // 7. Deep nesting (inside the 64 KiB limit).
  for (const topic of topics) {
    const base = json(validBody(topic)).slice(0, -1);
    cases.push({ name: 'extra field nested 1,000 objects deep', topic, raw: `${base},"deep":${deepObject(1_000)}}`, expected: '400|tolerated' });
    cases.push({ name: 'extra field nested 4,000 objects deep', topic, raw: `${base},"deep":${deepObject(4_000)}}`, expected: '400|tolerated' });
    cases.push({ name: 'extra field nested 10,000 objects deep', topic, raw: `${base},"deep":${deepObject(10_000)}}`, expected: '400|tolerated' });
    cases.push({ name: 'extra field nested 30,000 arrays deep', topic, raw: `${base},"deep":${deepArray(30_000)}}`, expected: '400|tolerated' });
    cases.push({ name: 'patient nested 5,000 objects deep', topic, raw: `${base},"patient":{"id":"p","x":${deepObject(5_000)}}}`, expected: '400|tolerated' });
    cases.push({ name: 'patient as 30,000 nested arrays', topic, raw: `${base},"patient":${deepArray(30_000)}}`, expected: 400, path: 'patient' });
  }
  cases.push({ name: 'prescriptions as 30,000 nested arrays', topic: 'orders', raw: `${json(validBody('orders')).slice(0, -1)},"prescriptions":${deepArray(30_000)}}`, expected: 400, path: 'prescriptions' });
  // Deep nesting without a timestamp: the dedup key is a hash of the whole body.
  cases.push({ name: 'no timestamp, extra field 30,000 arrays deep', topic: 'orders', raw: `{"id":"${uid('bo')}","order_status":"shipped","deep":${deepArray(30_000)}}`, expected: '400|tolerated' });

  // 8. Odd unicode in ids and statuses: not a provider id.
  const oddIds: Array<[string, string]> = [
    ['lone high surrogate', '\ud800'],
    ['lone low surrogate', 'ab\udfffcd'],
    ['NUL', 'a\u0000b'],
    ['BEL control', '\u0007bell'],
    ['RTL override', '\u202eevil'],
    ['RTL mark', 'id\u200f'],
    ['zero-width space', '\u200b'],
    ['emoji', '💊🚚📦'],
  ];
  for (const topic of topics) {
    for (const [label, id] of oddIds) cases.push({ name: `id with ${label}`, topic, raw: json({ ...validBody(topic), id }), expected: 400, path: 'id' });
  }
  cases.push({ name: 'status with NUL', topic: 'orders', raw: json({ ...validBody('orders'), order_status: 'ship\u0000ped' }), expected: 400, path: 'order_status' });
  cases.push({ name: 'status with lone surrogate', topic: 'orders', raw: json({ ...validBody('orders'), order_status: 'shipped\udc00' }), expected: 400, path: 'order_status' });

  // 9. Wrong, missing or duplicated token (valid body).
  const s = FAKE.webhookSecret;
  const e = encodeURIComponent;
  const tokens = [
    '',
    'token=',
    'token=wrong',
    `token=${e(s.toUpperCase())}`,
    `token=${e(`${s} `)}`,
    `token=${e(` ${s}`)}`,
    `token=${e(s.slice(0, -1))}`,
    `token=${e(`${s}x`)}`,
    `token=${e(s)}&token=${e(s)}`,
    `token=${e(s)}&token=wrong`,
    `token=wrong&token=${e(s)}`,
    `token[]=${e(s)}`,
    `token[a]=${e(s)}`,
    `TOKEN=${e(s)}`,
    `tok=${e(s)}`,
    `token=${'x'.repeat(10_000)}`,
    'token=%00',
    `token=${e(s)}%00`,
  ];
  for (const topic of topics) for (const query of tokens) cases.push({ name: `token query ${json(query.replace(s, '<secret>').slice(0, 40))}`, topic, raw: json(validBody(topic)), query, expected: 401 });

  // 10. A wrong token, whatever the body: refused before the body is looked at.
  const anyBody: Array<[string, string, string | null | undefined, boolean?]> = [
    ['a 2 MB body', json({ id: 'x', filler: 'f'.repeat(2_000_000) }), undefined],
    ['a 2 MB body, chunked', json({ id: 'x', filler: 'f'.repeat(2_000_000) }), undefined, true],
    ['a non-JSON body', 'plain words, not JSON', 'text/plain'],
    ['a form body', 'id=x&order_status=shipped', 'application/x-www-form-urlencoded'],
    ['malformed JSON', '{"id":', undefined],
    ['no content type', '{"id":"x"}', null],
  ];
  for (const topic of topics) {
    for (const [label, raw, contentType, chunked] of anyBody) cases.push({ name: `wrong token, ${label}`, topic, raw, contentType, chunked, query: 'token=wrong', expected: 401 });
  }

  // 11. A valid JSON body whose content type does not say JSON (or says it in another charset, or compressed).
  const notJson = [
    'text/plain',
    'text/plain; charset=utf-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'text/json',
    'application/json-seq',
    'application/jsonx',
    'application/json; charset=iso-8859-1',
    'application/json; charset=utf-16',
    null,
  ];
  for (const topic of topics) {
    for (const contentType of notJson) cases.push({ name: `content type ${contentType ?? '(none)'}`, topic, raw: json(validBody(topic)), contentType, expected: 415 });
    cases.push({ name: 'form body as a form', topic, raw: 'id=x&order_status=shipped', contentType: 'application/x-www-form-urlencoded', expected: 415 });
  }

  // 12. Chunked bodies (no content-length): the bytes received count, and are parsed the same.
  for (const topic of topics) {
    cases.push({ name: 'chunked body of 70 KB', topic, raw: json({ ...validBody(topic), filler: 'f'.repeat(70_000) }), chunked: true, expected: 413 });
    cases.push({ name: 'chunked body of 2 MB', topic, raw: json({ ...validBody(topic), filler: 'f'.repeat(2_000_000) }), chunked: true, expected: 413 });
    cases.push({ name: 'chunked invalid JSON', topic, raw: '{"id":"x",', chunked: true, expected: 400 });
    cases.push({ name: 'chunked valid body', topic, raw: json({ ...validBody(topic), vendor_field: 'x' }), chunked: true, expected: 'tolerated' });
  }

  return cases;
}

// --- client inputs ---------------------------------------------------------------------------------

interface ClientCase {
  name: string;
  /** Calls the client with the bad input. */
  call: (f: FulfilmentService) => Promise<unknown>;
  /** The field path the error must name. */
  path: string;
  /** A value that must not appear in the message. */
  value?: string;
  bug?: string;
}

/** A copy of `base` with the value at a dotted path (`a.b[0].c`) replaced; `undefined` deletes it. */
function withValue<T>(base: T, path: string, value: unknown): T {
  const copy = structuredClone(base) as Record<string, unknown>;
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let at: Record<string, unknown> = copy;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  const last = keys[keys.length - 1];
  if (value === undefined) delete at[last];
  else at[last] = value;
  return copy as T;
}

function clientCorpus(): ClientCase[] {
  const cases: ClientCase[] = [];
  const leak = (v: unknown) => (typeof v === 'string' && v.length >= 4 ? v : undefined);

  const patientMutations: Array<[string, unknown]> = [
    ['firstName', undefined],
    ['firstName', ''],
    ['firstName', 123],
    ['firstName', null],
    ['firstName', 'n'.repeat(1_000)],
    ['lastName', undefined],
    ['lastName', { name: FAKE.lastName }],
    ['dob', undefined],
    ['dob', '1990-02-30'],
    ['dob', '2999-01-01'],
    ['dob', '07/23/1961'],
    ['dob', 19610723],
    ['email', 'zephyrine-at-example.test'],
    ['email', 42],
    ['phoneNumber', '555-867-5309'],
    ['phoneNumber', '55586753'],
    ['phoneNumber', 5558675309],
    ['ssn', '078-05-1120'],
  ];
  for (const [path, value] of patientMutations) {
    cases.push({ name: `CaryRx patient ${path} = ${json(value)?.slice(0, 30)}`, call: (f) => f.caryrx.ensurePatient('bad-patient', withValue(fakePatient(), path, value)), path, value: leak(value) });
  }
  cases.push({ name: 'CaryRx patient: empty host reference', call: (f) => f.caryrx.ensurePatient('', fakePatient()), path: 'hostReference' });

  const locationMutations: Array<[string, unknown]> = [
    ['street1', undefined],
    ['street1', ''],
    ['street1', 7],
    ['street1', 's'.repeat(201)],
    ['city', undefined],
    ['state', 'Ohio'],
    ['state', 'O1'],
    ['zip', 'abcde'],
    ['zip', '4321'],
    ['latitude', 91],
    ['latitude', 'north'],
    ['longitude', -181],
    ['locationName', 'l'.repeat(65)],
    ['gateCode', '1234'],
  ];
  for (const [path, value] of locationMutations) {
    cases.push({ name: `CaryRx location ${path} = ${json(value)?.slice(0, 30)}`, call: (f) => f.caryrx.addLocation('reliability-patient', withValue(fakeLocation(), path, value)), path, value: leak(value) });
  }

  const order = () => ({ idempotencyKey: 'bad-order-1', patientHostReference: 'reliability-patient', locationId: 'loc-1', prescriptionIds: ['rx1'] });
  const orderMutations: Array<[string, unknown]> = [
    ['idempotencyKey', undefined],
    ['idempotencyKey', ''],
    ['idempotencyKey', 'k'.repeat(256)],
    ['patientHostReference', undefined],
    ['locationId', undefined],
    ['prescriptionIds', []],
    ['prescriptionIds', 'rx1'],
    ['prescriptionIds', [1]],
    ['prescriptionIds', ['']],
    ['prescriptionIds', Array.from({ length: 101 }, (_, i) => `rx${i}`)],
    ['shippingMethod', 'teleport'],
    ['centralFill', 'yes'],
    ['patientDeliveryNote', 42],
    ['priority', 'high'],
  ];
  for (const [path, value] of orderMutations) {
    cases.push({ name: `CaryRx order ${path} = ${json(value)?.slice(0, 30)}`, call: (f) => f.caryrx.placeOrder(withValue(order(), path, value) as never), path, value: leak(value) });
  }

  const delivery = () => ({ idempotencyKey: 'bad-delivery-1', order: fakeDelivery() });
  const deliveryMutations: Array<[string, unknown]> = [
    ['idempotencyKey', undefined],
    ['idempotencyKey', ''],
    ['order', undefined],
    ['order.serviceLevel', 'warp'],
    ['order.deliveryFee', undefined],
    ['order.rxAmountDue', 'two'],
    ['order.pharmacy', undefined],
    ['order.pharmacy.npi', 12],
    ['order.recipient', undefined],
    ['order.recipient.description', ''],
    ['order.recipient.address', undefined],
    ['order.recipient.address.zipcode', 'abcde'],
    ['order.recipient.address.state', 'Ohio'],
    ['order.recipient.address.street', undefined],
    ['order.patient', undefined],
    ['order.patient.firstName', ''],
    ['order.patient.gender', 'x'],
    ['order.patient.dateOfBirth', '2999-01-01'],
    ['order.patient.dateOfBirth', '1961-02-30'],
    ['order.prescriptions', []],
    ['order.prescriptions', 'rx'],
    ['order.prescriptions[0].ndc', undefined],
    ['order.prescriptions[0].refrigeration', 'warm'],
    ['order.prescriptions[0].daysSupply', 'thirty'],
    ['order.prescriptions[0].prescriber', undefined],
    ['order.prescriptions[0].payers[0].coverageType', 'quaternary'],
    ['order.prescriptions[0].payers[0].governmentPlanIndicator', 'no'],
    ['order.photoIdRequired', 'yes'],
    ['order.unknownField', 'x'],
    ['order.recipient.address.unknownField', FAKE.street],
    ['order.externalReferenceNumber', 'someone-elses-reference'],
  ];
  for (const [path, value] of deliveryMutations) {
    cases.push({ name: `ScriptDrop delivery ${path} = ${json(value)?.slice(0, 30)}`, call: (f) => f.scriptdrop.createDelivery(withValue(delivery(), path, value) as never), path, value: leak(value) });
  }
  cases.push({ name: 'ScriptDrop delivery: shipping level without a shipping block', call: (f) => f.scriptdrop.createDelivery(withValue(delivery(), 'order.serviceLevel', 'shipping') as never), path: 'order.shipping' });
  const deep = JSON.parse('{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000));
  cases.push({ name: 'CaryRx patient with an extra field 5,000 levels deep', call: (f) => f.caryrx.ensurePatient('bad-patient', { ...fakePatient(), deep } as never), path: 'deep' });
  cases.push({ name: 'ScriptDrop delivery with a recipient address 5,000 levels deep', call: (f) => f.scriptdrop.createDelivery(withValue(delivery(), 'order.recipient.address.extra', deep) as never), path: 'order.recipient.address.extra' });
  cases.push({ name: 'ScriptDrop delivery: ondemand without readyAt', call: (f) => f.scriptdrop.createDelivery(withValue(delivery(), 'order.serviceLevel', 'ondemand') as never), path: 'order.readyAt' });
  return cases;
}

const WEBHOOK_CASES = webhookCorpus();
const CLIENT_CASES = clientCorpus();

// Outside the describe: its afterAll runs after the describe's own (apps closed), so shutdown lines are scanned too.
useLogCapture();

describe('reliability: bad input corpus', () => {
  let caryrx: CaryRxSimulator;
  let scriptdrop: ScriptDropSimulator;
  let ctx: ReliabilityApp;
  let fulfilment: FulfilmentService;
  const simRequests = () => caryrx.requests.length + scriptdrop.requests.length;
  const moduleOptions = (): FulfilmentModuleOptions => ({
    caryrx: { baseUrl: caryrx.url, apiKey: FAKE.caryrxApiKey, environment: 'development' },
    scriptdrop: { baseUrl: scriptdrop.url, apiKey: FAKE.scriptdropApiKey, apiSecret: FAKE.scriptdropApiSecret },
    webhooks: { secret: FAKE.webhookSecret },
    sync: { enabled: false },
  });

  beforeAll(async () => {
    caryrx = new CaryRxSimulator({ apiKey: FAKE.caryrxApiKey, stepMs: 0 });
    scriptdrop = new ScriptDropSimulator({ apiKey: FAKE.scriptdropApiKey, apiSecret: FAKE.scriptdropApiSecret, stepMs: 0 });
    await caryrx.start();
    await scriptdrop.start();
    ctx = await bootApp(moduleOptions());
    fulfilment = ctx.app.get(FulfilmentService);
    // One real patient, so the provider HTTP core has logged patient traffic for the scan.
    await fulfilment.caryrx.ensurePatient('reliability-patient', fakePatient());
  });
  afterAll(async () => {
    await ctx?.close();
    await caryrx?.stop();
    await scriptdrop?.stop();
  });

  it(`the corpus holds at least 200 cases (${WEBHOOK_CASES.length} webhook bodies + ${CLIENT_CASES.length} client inputs)`, () => {
    expect(WEBHOOK_CASES.length + CLIENT_CASES.length).toBeGreaterThanOrEqual(200);
    expect(new Set(WEBHOOK_CASES.map((c) => c.expected)).size).toBe(6);
  });

  /** Each adapter's answer to each webhook case, compared once both ran. */
  const answers: Record<TestAdapter, Map<number, RawAnswer>> = { express: new Map(), fastify: new Map() };

  describe.each(TEST_ADAPTERS)('webhooks on %s', (adapter) => {
    let hooks: TestApp;
    beforeAll(async () => {
      hooks = await createTestApp(moduleOptions(), { adapter, logger: captureLogger });
    });
    afterAll(async () => {
      await hooks?.close();
    });

    describe.each([...WEBHOOK_CASES.entries()].map(([i, c]) => [`#${i} ${c.topic}: ${c.name} → ${c.expected}`, i, c] as const))('webhook %s', (_name, i, c) => {
      (c.bug ? it.failing : it)(c.bug ? `answered and stored as expected (KNOWN BUG: ${c.bug})` : 'answered and stored as expected', async () => {
        const before = await storedCounts(hooks.dataSource);
        const res = await postRaw(`${hooks.url}/fulfilment/webhooks/caryrx/${c.topic}${c.query === '' ? '' : `?${c.query ?? TOKEN}`}`, {
          headers: c.contentType === null ? {} : { 'content-type': c.contentType ?? 'application/json' },
          body: c.raw,
          chunked: c.chunked,
        });
        answers[adapter].set(i, res);
        const after = await storedCounts(hooks.dataSource);
        const body = (typeof res.body === 'object' && res.body ? res.body : {}) as { message?: unknown; fields?: Array<{ path: string }> };
        // Never a server error; never a value echoed back.
        expect(res.status).toBeLessThan(500);
        const text = JSON.stringify(res.body);
        for (const needle of secretNeedles()) expect(text.includes(needle) ? needle : null).toBeNull();

        const tolerated = res.status >= 200 && res.status < 300;
        if (c.expected === 'tolerated' || (c.expected === '400|tolerated' && tolerated)) {
          expect(res.status).toBe(200);
          expect(after).toEqual({ ...before, inbox: before.inbox + 1 });
          const stored = await hooks.dataSource.manager.find(WebhookInboxEvent, { order: { receivedAt: 'DESC' }, take: 1 });
          expect(stored[0].payload).not.toMatch(/vendor_field|polluted|address_to|Quillfeather|Evergreen|@example/);
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          return;
        }
        expect(res.status).toBe(c.expected === '400|tolerated' ? 400 : c.expected);
        // A clear message, as JSON.
        expect(res.contentType).toMatch(/^application\/json/);
        expect(typeof body.message === 'string' && body.message.length > 0).toBe(true);
        if (c.path) expect((body.fields ?? []).map((f) => f.path).some((p) => p === c.path || p.startsWith(`${c.path}.`) || p.startsWith(`${c.path}[`))).toBe(true);
        expect(after).toEqual(before);
      });
    });
  });

  it('answers every webhook case with the same status, content type and body on express and Fastify', () => {
    // Filled by the cases above; a run filtered with -t leaves them empty.
    expect(answers.express.size).toBe(WEBHOOK_CASES.length);
    const differing = WEBHOOK_CASES.map((c, i) => ({ case: `#${i} ${c.topic}: ${c.name}`, express: answers.express.get(i), fastify: answers.fastify.get(i) })).filter(
      (d) => JSON.stringify(d.express) !== JSON.stringify(d.fastify),
    );
    expect(differing).toEqual([]);
  });

  describe.each([...CLIENT_CASES.entries()].map(([i, c]) => [`#${i} ${c.name}`, c] as const))('client input %s', (_name, c) => {
    (c.bug ? it.failing : it)(`throws FulfilmentValidationError naming ${c.path}; nothing sent${c.bug ? ` (KNOWN BUG: ${c.bug})` : ''}`, async () => {
      const requests = simRequests();
      const before = await storedCounts(ctx.dataSource);
      const error = await c.call(fulfilment).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(FulfilmentValidationError);
      const e = error as FulfilmentValidationError;
      // A too-deep value is named down to where the depth limit was hit (`deep.a.a…`).
      expect(e.fields.map((f) => f.path).some((p) => p === c.path || p.startsWith(`${c.path}.`) || p.startsWith(`${c.path}[`))).toBe(true);
      if (c.value) expect(e.message.includes(c.value) || JSON.stringify(e.fields).includes(c.value)).toBe(false);
      for (const needle of secretNeedles()) expect(e.message.includes(needle) ? needle : null).toBeNull();
      expect(simRequests()).toBe(requests);
      expect(await storedCounts(ctx.dataSource)).toEqual(before);
    });
  });

  it('log scan: rejections were logged (and /v1/patients traffic) without any fake key, secret or patient value', () => {
    expect(captured.length).toBeGreaterThan(0);
    expect(captured.some((c) => c.line.includes('/v1/patients'))).toBe(true);
    expect(captured.some((c) => c.line.includes('rejected'))).toBe(true);
    expect(captured.some((c) => c.source === 'nest:debug')).toBe(true);
    // Every rejection of each adapter's webhooks was logged, as one warning: no error, no stack trace.
    for (const reason of ['unauthorized', 'unsupported_media_type', 'too_large', 'invalid_body']) {
      expect(captured.filter((c) => c.source === 'nest:warn' && c.line.includes(`rejected (${reason}`)).length).toBeGreaterThan(2);
    }
    expect(captured.filter((c) => c.source === 'nest:error' || /^\s+at .+:\d+:\d+\)?$/m.test(c.line)).map((c) => c.line.slice(0, 200))).toEqual([]);
    // The scan itself finds a planted value, in any of its encodings.
    expect(findLeaks([{ source: 'self-test', line: `x ${FAKE.email} y` }])).toHaveLength(1);
    expect(findLeaks([{ source: 'self-test', line: encodeURIComponent(FAKE.webhookSecret + '/') }])).toHaveLength(1);
    expect(findLeaks()).toEqual([]);
  });
});
