import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { BadRequestException, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { Transform, Type } from 'class-transformer';
import { getMetadataStorage, IsEmail, IsOptional, IsString, ValidateIf, ValidateNested } from 'class-validator';
import { CARYRX_DOC_PRESCRIPTION } from '../../../../test/fixtures/caryrx-examples.js';
import {
  CaryRxEntityRefBody,
  CaryRxOrderEventBody,
  CaryRxOrderPrescriptionRefBody,
  CaryRxPrescriberBody,
  CaryRxPrescriptionEventBody,
  orderEventFromWire,
  prescriptionEventFromWire,
} from '../caryrx/caryrx.wire.js';
import { CARYRX_ORDER_TEST_PAYLOAD, CARYRX_PRESCRIPTION_TEST_PAYLOAD } from '../sandbox/caryrx-simulator.js';
import { compileBodyCheck } from './compiled-body-check.js';
import { WebhookValidationPipe } from './webhook-body.js';

type Cls = new () => object;
const meta = (metatype: Cls): ArgumentMetadata => ({ type: 'custom', metatype, data: undefined });
const pipe = new WebhookValidationPipe();
const json = (v: unknown) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

type Outcome = { ok: true; value: unknown } | { ok: false; response?: unknown };
/** The existing path: ValidationPipe.transform (plainToInstance + validate), without the fast path. */
async function viaClassValidator(cls: Cls, body: unknown): Promise<Outcome> {
  try {
    return { ok: true, value: json(await ValidationPipe.prototype.transform.call(pipe, body, meta(cls))) };
  } catch (err) {
    if (!(err instanceof BadRequestException)) throw err;
    return { ok: false, response: err.getResponse() };
  }
}
async function viaPipe(cls: Cls, body: unknown): Promise<Outcome> {
  try {
    return { ok: true, value: json(await pipe.transform(body, meta(cls))) };
  } catch (err) {
    if (!(err instanceof BadRequestException)) throw err;
    return { ok: false, response: err.getResponse() };
  }
}
function viaCompiled(cls: Cls, body: unknown): Outcome {
  const result = compileBodyCheck(cls)!(body);
  return result.ok ? { ok: true, value: json(result.value) } : { ok: false };
}

/** A body to run: a value (cloned per run, undefined properties kept) or JSON text (for `__proto__` keys). */
type Case = { name: string; body?: unknown; text?: string };
const fresh = (c: Case): unknown => (c.text !== undefined ? JSON.parse(c.text) : clone(c.body));
/** A deep copy made in this realm (Jest's structuredClone answers objects of another realm), undefined and NaN kept. */
function clone<T>(v: T): T {
  if (Array.isArray(v)) return v.map(clone) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) as T;
}

const propertiesOf = (cls: Function) => [...new Set(getMetadataStorage().getTargetValidationMetadatas(cls, '', false, false, undefined).map((m) => m.propertyName))];

const WRONG: Array<[string, unknown]> = [
  ['42', 42], ['1.5', 1.5], ['-1', -1], ['NaN', NaN], ['Infinity', Infinity], ['true', true], ['false', false],
  ['empty', ''], ['space', ' '], ['x', 'x'], ['status', 'ready_to_fill'],
  ['64 chars', 'a'.repeat(64)], ['65 chars', 'a'.repeat(65)], ['2049 chars', 'a'.repeat(2049)],
  ['tab', 'a\tb'], ['NUL', 'a\u0000b'], ['non-ASCII', 'café'], ['40 emoji (80 UTF-16 units)', '😀'.repeat(40)],
  ['timestamp', '2020-12-15T19:56:49.685Z'], ['date', '2020-12-15'], ['not a date', 'yesterday'],
  ['null', null], ['undefined', undefined], ['{}', {}], ['{ id }', { id: 'x1' }], ['{ id: 3 }', { id: 3 }],
  ['[]', []], ['[{ id }]', [{ id: 'x1' }]], ['[string]', ['x1']], ['[null]', [null]], ['[[{ id }]]', [[{ id: 'x1' }]]],
  ['[{ id }, { id: 3 }]', [{ id: 'x1' }, { id: 3 }]], ['[{}]', [{}]],
];

function setPath(body: Record<string, any>, path: string[], value: unknown, remove: boolean) {
  let at = body;
  for (const segment of path.slice(0, -1)) {
    if (typeof at[segment] !== 'object' || at[segment] === null) at[segment] = /^\d+$/.test(segment) ? {} : segment === 'prescriptions' ? [] : {};
    at = at[segment];
  }
  if (remove) delete at[path.at(-1)!];
  else at[path.at(-1)!] = value;
}

/** Every field (top level and nested) of `bases`, set to each wrong value and removed; plus whole-body shapes. */
function casesFor(bases: Record<string, object>, nested: Record<string, Function>, top: Function): Case[] {
  const paths = [
    ...propertiesOf(top).map((p) => [p]),
    ['unknown_field'],
    ...Object.entries(nested).flatMap(([at, cls]) => [...propertiesOf(cls), 'unknown_field'].map((p) => [...at.split('.'), p])),
  ];
  const cases: Case[] = [];
  for (const [baseName, base] of Object.entries(bases)) {
    cases.push({ name: `${baseName} as is`, body: base });
    for (const path of paths) {
      for (const [valueName, value] of WRONG) {
        const body = clone(base) as Record<string, unknown>;
        setPath(body, path, value, false);
        cases.push({ name: `${baseName}: ${path.join('.')} = ${valueName}`, body });
      }
      const body = clone(base) as Record<string, unknown>;
      setPath(body, path, undefined, true);
      cases.push({ name: `${baseName}: without ${path.join('.')}`, body });
    }
    const text = JSON.stringify(base).slice(1, -1);
    cases.push(
      { name: `${baseName} with __proto__`, text: `{"__proto__":{"id":"evil"},${text}}` },
      { name: `${baseName} with constructor`, text: `{"constructor":{"prototype":{"x":1}},"prototype":1,${text}}` },
      { name: `${baseName} with a nested __proto__`, text: `{${text},"patient":{"__proto__":{"id":"p1"}}}` },
      { name: `${baseName} with deep unknown fields`, body: { ...base, extra: { a: [1, { b: null }] }, patient: { id: 'p1', extra: { c: 1 }, more: [1] } } },
    );
  }
  for (const [name, body] of [['null', null], ['undefined', undefined], ['a string', 'x'], ['a number', 42], ['true', true], ['[]', []], ['[valid]', [Object.values(bases)[0]]], ['a Date', new Date(0)]] as const) {
    cases.push({ name: `body ${name}`, body });
  }
  return cases;
}

const minimalOrder = { id: 'o1', order_status: 'pending' };
const benchOrder = {
  id: 'bo00000001',
  shipping_method: 'sameday_delivery',
  packaging_method: 'usps_firstclass',
  order_status: 'shipped',
  updated_at: '2026-01-01T00:00:10.000Z',
  shipment_tracking_url: 'https://track.example.test/1',
  prescriptions: [{ entity_type: 'prescription', id: 'rx00000001', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }],
  patient: { entity_type: 'patient', id: 'pt00000001', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' },
};
const DTOS: Array<{ cls: Cls; cases: Case[]; fromWire: (body: any) => unknown }> = [
  {
    cls: CaryRxOrderEventBody,
    fromWire: orderEventFromWire,
    cases: casesFor({ 'doc order sample': CARYRX_ORDER_TEST_PAYLOAD, 'bench order': benchOrder, 'minimal order': minimalOrder }, { patient: CaryRxEntityRefBody, 'prescriptions.0': CaryRxOrderPrescriptionRefBody }, CaryRxOrderEventBody),
  },
  {
    cls: CaryRxPrescriptionEventBody,
    fromWire: prescriptionEventFromWire,
    cases: casesFor(
      { 'doc prescription': CARYRX_DOC_PRESCRIPTION, 'doc prescription test payload': CARYRX_PRESCRIPTION_TEST_PAYLOAD, 'minimal prescription': { id: 'rx1' } },
      { patient: CaryRxEntityRefBody, prescriber: CaryRxPrescriberBody },
      CaryRxPrescriptionEventBody,
    ),
  },
];

describe('compiled body check', () => {
  for (const { cls, cases, fromWire } of DTOS) {
    describe(cls.name, () => {
      it('compiles, once', () => {
        expect(compileBodyCheck(cls)).toBeDefined();
        expect(compileBodyCheck(cls)).toBe(compileBodyCheck(cls));
      });

      it(`agrees with class-validator on ${cases.length} bodies: valid/invalid, and the value handed over`, async () => {
        const disagreements: string[] = [];
        let valid = 0;
        for (const c of cases) {
          const expected = await viaClassValidator(cls, fresh(c));
          const actual = viaCompiled(cls, fresh(c));
          if (expected.ok) valid++;
          if (actual.ok !== expected.ok || (expected.ok && actual.ok && !deepEqual(actual.value, expected.value))) {
            disagreements.push(`${c.name}: class-validator ${expected.ok ? JSON.stringify(expected.value) : 'invalid'}, compiled ${actual.ok ? JSON.stringify(actual.value) : 'invalid'}`);
          }
        }
        expect(disagreements).toEqual([]);
        // The cases hold both outcomes in numbers.
        expect(valid).toBeGreaterThan(100);
        expect(cases.length - valid).toBeGreaterThan(500);
      });

      it('through WebhookValidationPipe: same answers as before, byte for byte, and the same raw body left behind', async () => {
        for (const c of cases) {
          const before = fresh(c);
          const after = fresh(c);
          const expected = await viaClassValidator(cls, before);
          const actual = await viaPipe(cls, after);
          // A 400 byte for byte; a valid body's value as JSON (its key order is the class's, not the body's).
          const bytes = (o: Outcome) => JSON.stringify(o.ok ? { ok: true, value: sortKeys(o.value) } : o);
          expect({ case: c.name, outcome: bytes(actual) }).toEqual({ case: c.name, outcome: bytes(expected) });
          expect({ case: c.name, raw: after }).toEqual({ case: c.name, raw: before });
        }
      });

      it('hands the handler an instance of the class, nested instances, only declared fields', async () => {
        for (const c of cases.filter((c) => c.name.endsWith('as is') || c.name.includes('unknown'))) {
          const compiled = compileBodyCheck(cls)!(fresh(c));
          const expected = await ValidationPipe.prototype.transform.call(pipe, fresh(c), meta(cls)).catch(() => undefined);
          if (!compiled.ok) {
            expect({ case: c.name, expected }).toEqual({ case: c.name, expected: undefined });
            continue;
          }
          const value = compiled.value as Record<string, any>;
          expect(value).toBeInstanceOf(cls);
          expect(value).toEqual(expected); // toEqual also compares the classes of nested values
          expect(value).not.toHaveProperty('unknown_field');
          if (value.patient) expect(value.patient).toBeInstanceOf(CaryRxEntityRefBody);
          for (const p of value.prescriptions ?? []) expect(p).toBeInstanceOf(CaryRxOrderPrescriptionRefBody);
          expect(fromWire(value)).toEqual(fromWire(expected));
        }
      });
    });
  }
});

describe('compiled body check: what it does not know falls back to class-validator', () => {
  class WithValidateIf {
    @IsOptional()
    @IsString()
    kind?: string;

    @ValidateIf((o: { kind?: string }) => o.kind === 'a')
    @IsString()
    a: string;
  }
  class WithUnknownConstraint {
    @IsEmail()
    email: string;
  }
  class WithTransform {
    @Transform(({ value }) => (typeof value === 'string' ? value.trim() : value))
    @IsString()
    name: string;
  }
  class WithUnknownNested {
    @IsOptional()
    @ValidateNested()
    @Type(() => WithUnknownConstraint)
    contact?: WithUnknownConstraint;
  }
  class WithoutType {
    @ValidateNested()
    inner: object;
  }

  it('compiles none of them', () => {
    for (const cls of [WithValidateIf, WithUnknownConstraint, WithTransform, WithUnknownNested, WithoutType]) expect({ cls: cls.name, check: compileBodyCheck(cls) }).toEqual({ cls: cls.name, check: undefined });
  });

  it('WebhookValidationPipe still validates them with class-validator (no silent accept)', async () => {
    await expect(pipe.transform({ email: 'not an email' }, meta(WithUnknownConstraint))).rejects.toBeInstanceOf(BadRequestException);
    expect(await viaPipe(WithUnknownConstraint, { email: 'not an email' })).toMatchObject({ ok: false, response: { statusCode: 400, fields: [{ path: 'email' }] } });
    expect(await viaPipe(WithUnknownConstraint, { email: 'a@example.com', extra: 1 })).toEqual({ ok: true, value: { email: 'a@example.com' } });
    expect(await viaPipe(WithUnknownNested, { contact: { email: 'nope' } })).toMatchObject({ ok: false, response: { fields: [{ path: 'contact.email' }] } });
    expect(await viaPipe(WithValidateIf, { kind: 'a', a: 1 })).toMatchObject({ ok: false, response: { fields: [{ path: 'a' }] } });
    expect(await viaPipe(WithValidateIf, { kind: 'b', a: 1 })).toEqual({ ok: true, value: { kind: 'b', a: 1 } });
    // Only class-transformer applies @Transform: the trimmed value proves the pipe's own path ran.
    expect(await viaPipe(WithTransform, { name: '  x  ' })).toEqual({ ok: true, value: { name: 'x' } });
  });
});

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
}
function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}
