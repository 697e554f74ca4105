/**
 * A compiled check of a webhook body, for WebhookValidationPipe's fast path.
 *
 * plainToInstance + validate cost most of the hot webhook route's CPU: class-transformer walks and
 * copies every key of the body, class-validator builds an error object per property and runs each
 * constraint through its executor (and a promise). Here a DTO class is read, once, from the same
 * decorators (class-validator's metadata storage, class-transformer's `@Type` metadata) into a
 * plan that a plain loop runs: the decorators stay the one definition of the rules.
 *
 * The check only answers `ok` when the pipe would accept the body AND hand the handler the same
 * value (an instance of the class, only the decorated properties at every level, nested values as
 * instances of their `@Type`). Anything it is not sure of is `{ ok: false }`, and the pipe then
 * runs class-validator, which produces the 400 (or accepts an odd body). A class using a
 * decorator, option or constraint outside the supported set is not compiled at all
 * (compileBodyCheck answers undefined): that class always takes class-validator's path.
 *
 * It assumes WebhookValidationPipe's options: whitelist (unknown properties dropped, not refused),
 * no groups, no skip*Properties, no enableImplicitConversion; and JSON.parse output as the body.
 */
import { Type, TransformationType } from 'class-transformer';
import { defaultMetadataStorage as transformerStorage } from 'class-transformer/cjs/storage.js';
import {
  getMetadataStorage,
  isArray,
  isBoolean,
  isDateString,
  isDefined,
  isIn,
  isInt,
  isISO8601,
  isNotEmpty,
  isNumber,
  isObject,
  isString,
  matches,
  maxLength,
  minLength,
} from 'class-validator';
import { MAX_INPUT_DEPTH, RULE_VALIDATORS, type RuleValidate } from '../validation.js';

export type BodyCheckResult<T = object> = { ok: true; value: T } | { ok: false };
export type BodyCheck<T = object> = (body: unknown) => BodyCheckResult<T>;

type Test = (value: unknown) => boolean;

/**
 * The constraints evaluated here, by class-validator's constraint name, each with class-validator's
 * own exported predicate and the decorator's recorded arguments (`constraints`), so no rule is
 * written twice.
 */
const TESTS: Record<string, (c: any[]) => Test> = {
  isDefined: () => isDefined,
  isString: () => isString,
  isNotEmpty: () => isNotEmpty,
  isBoolean: () => isBoolean,
  isInt: () => isInt,
  isObject: () => isObject,
  isArray: () => isArray,
  isNumber: ([options]) => (v) => isNumber(v, options),
  isIn: ([values]) => (v) => isIn(v, values),
  // validator.js counts a surrogate pair as one character, so `length <= max` is enough to pass
  // and only a longer string needs its count.
  maxLength: ([max]) => (v) => typeof v === 'string' && (v.length <= max || maxLength(v, max)),
  minLength: ([min]) => (v) => minLength(v, min),
  matches: ([pattern, modifiers]) => (v) => matches(v as string, pattern, modifiers),
  isIso8601: ([options]) => (v) => isISO8601(v, options),
  isDateString: ([options]) => (v) => isDateString(v, options),
};

interface Field {
  key: string;
  /** IsOptional: null or undefined skips every other rule of the property. */
  optional: boolean;
  tests: Test[];
  /** The module's own Rule checks: they get the holder, so they run once the object is built. */
  rules: RuleValidate[];
  /** ValidateNested + Type: the plan of the nested class (arrays of it too, as class-validator does). */
  nested?: Plan;
}

interface Plan {
  cls: new () => Record<string, unknown>;
  fields: Field[];
  ruled: Field[];
}

const FAIL: BodyCheckResult<never> = { ok: false };

/** JSON.parse's objects; anything else (class instances, binary values, null prototypes) is left to the pipe. */
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/**
 * The class-transformer storage is not exported from its index; its `cjs/storage.js` is the one
 * instance `class-transformer` uses under Node (ESM and CJS: the package has no `exports`, and both
 * load `main`). A bundler taking its `module` entry would hold a second, empty copy: proven here
 * with a probe, and without it nothing is compiled.
 */
let transformerStorageShared: boolean | undefined;
function transformerStorageIsShared(): boolean {
  // Probed on first use, not at import (class-transformer's Type needs reflect-metadata loaded).
  if (transformerStorageShared === undefined) {
    class StorageProbe {
      probe?: StorageProbe;
    }
    Type(() => StorageProbe)(StorageProbe.prototype, 'probe');
    transformerStorageShared = transformerStorage.findTypeMetadata(StorageProbe, 'probe') !== undefined;
  }
  return transformerStorageShared;
}

const plans = new WeakMap<Function, Plan | null>();

const checks = new WeakMap<Function, BodyCheck | undefined>();

/** The check of `cls`, compiled once per class; undefined when `cls` uses something outside the supported set. */
export function compileBodyCheck<T extends object = object>(cls: Function): BodyCheck<T> | undefined {
  if (!checks.has(cls)) {
    const plan = planOf(cls, new Set());
    const check: BodyCheck | undefined = plan
      ? (body) => {
          const value = build(plan, body);
          return value === undefined ? FAIL : { ok: true, value };
        }
      : undefined;
    checks.set(cls, check);
  }
  return checks.get(cls) as BodyCheck<T> | undefined;
}

function planOf(cls: Function, compiling: Set<Function>): Plan | null {
  if (plans.has(cls)) return plans.get(cls)!;
  // A class nesting itself (directly or not) is left to the pipe, as is everything unsupported.
  if (compiling.has(cls)) return null;
  compiling.add(cls);
  const plan = compilePlan(cls as Plan['cls'], compiling);
  compiling.delete(cls);
  plans.set(cls, plan);
  return plan;
}

function compilePlan(cls: Plan['cls'], compiling: Set<Function>): Plan | null {
  if (!transformerStorageIsShared()) return null;
  const validators = getMetadataStorage();
  // The metadatas class-validator itself uses for an instance of `cls` (inherited ones included).
  const metadatas = validators.getTargetValidationMetadatas(cls, '', false, false, undefined);
  if (metadatas.length === 0) return null;
  // class-transformer options beyond `@Type` (exposing, excluding, renaming) change the copy.
  if (transformerStorage.getStrategy(cls) !== 'none' || transformerStorage.getExposedMetadatas(cls).length > 0 || transformerStorage.getExcludedMetadatas(cls).length > 0) return null;
  // class-transformer builds `new cls()`: a constructor that sets properties (defaults) is not modelled.
  if (Object.keys(new cls()).length > 0) return null;

  const byKey = new Map<string, typeof metadatas>();
  for (const m of metadatas) byKey.set(m.propertyName, [...(byKey.get(m.propertyName) ?? []), m]);

  const fields: Field[] = [];
  for (const [key, list] of byKey) {
    // class-transformer skips a key the prototype answers (a method, a getter, `constructor`).
    if (key in cls.prototype) return null;
    if (transformerStorage.findTransformMetadatas(cls, key, TransformationType.PLAIN_TO_CLASS).length > 0) return null;
    const field: Field = { key, optional: false, tests: [], rules: [] };
    let nested = false;
    for (const m of list) {
      // Groups, per-item constraints and conditions are not modelled.
      if ((m.groups && m.groups.length > 0) || (m.each && m.type !== 'nestedValidation') || (m as { validateIf?: unknown }).validateIf) return null;
      if (m.type === 'conditionalValidation') {
        if (m.name !== 'isOptional') return null; // ValidateIf: an arbitrary condition
        field.optional = true;
      } else if (m.type === 'nestedValidation') {
        nested = true;
      } else if (m.type === 'customValidation' || m.type === 'isDefined') {
        const constraints = validators.getTargetValidatorConstraints(m.constraintCls);
        if (constraints.length !== 1 || constraints[0].async || !m.name) return null;
        // A Rule is looked up first, so a rule named like a built-in runs its own check.
        const rules = Reflect.getOwnMetadata(RULE_VALIDATORS, (m.target as Function).prototype, key) as Record<string, RuleValidate | null> | undefined;
        const rule = rules?.[m.name];
        if (rule) field.rules.push(rule);
        else if (rule === undefined && TESTS[m.name]) field.tests.push(TESTS[m.name](m.constraints ?? []));
        else return null;
      } else {
        return null; // Allow (whitelistValidation), ValidatePromise, anything newer
      }
    }
    const type = transformerStorage.findTypeMetadata(cls, key);
    if (nested) {
      // ValidateNested needs the class class-transformer builds; a plain copy is not modelled.
      if (!type || type.options?.discriminator || typeof type.typeFunction !== 'function' || type.typeFunction.length > 0) return null;
      const nestedCls = type.typeFunction();
      if (typeof nestedCls !== 'function' || [Object, Array, String, Number, Boolean, Date, Map, Set, Promise].includes(nestedCls as never)) return null;
      // An array value becomes `new reflectedType()` when that is a Set or has `push`, else `[]`;
      // a Map-typed property is copied as a Map.
      const reflected = type.reflectedType as Function | undefined;
      if (reflected !== undefined && reflected !== Array && (typeof reflected !== 'function' || 'push' in reflected.prototype || [Set, Map].some((c) => reflected === c || reflected.prototype instanceof c))) return null;
      const plan = planOf(nestedCls, compiling);
      if (!plan) return null;
      field.nested = plan;
    } else if (type) {
      return null; // `@Type(() => Number)` and the like convert the value
    }
    fields.push(field);
  }
  return { cls, fields, ruled: fields.filter((f) => f.rules.length > 0) };
}

/**
 * What plainToInstance + validate (whitelist) would hand over for `body`, or undefined when the
 * body is invalid or outside what is modelled here.
 */
function build(plan: Plan, body: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(body)) return undefined;
  const out = new plan.cls();
  for (const field of plan.fields) {
    let value = body[field.key];
    if (value === undefined && !Object.prototype.hasOwnProperty.call(body, field.key)) {
      // Absent: not copied, but still validated (as undefined).
      if (!field.optional && !passes(field.tests, undefined)) return undefined;
      continue;
    }
    if (field.optional && (value === null || value === undefined)) {
      out[field.key] = value;
      continue;
    }
    if (field.nested) {
      // class-validator skips nested validation of undefined; null or a primitive is an error.
      if (value !== undefined) {
        value = Array.isArray(value) ? buildArray(field.nested, value, 1) : build(field.nested, value);
        if (value === undefined) return undefined;
      }
    } else if (typeof value === 'object' && value !== null) {
      return undefined; // class-transformer's deep copy of an untyped object is not modelled
    }
    if (!passes(field.tests, value)) return undefined;
    out[field.key] = value;
  }
  // Rules see the holder, so they run on the finished (whitelisted) object, as class-validator does.
  for (const field of plan.ruled) {
    const value = out[field.key];
    if (field.optional && (value === null || value === undefined)) continue;
    for (const rule of field.rules) {
      if (rule(value, { targetName: plan.cls.name, property: field.key, object: out, value, constraints: [] }) !== true) return undefined;
    }
  }
  return out;
}

/** An array where a nested class belongs: each item built (class-validator validates each, with or without `each`). */
function buildArray(plan: Plan, items: unknown[], depth: number): unknown[] | undefined {
  if (Object.getPrototypeOf(items) !== Array.prototype || depth > MAX_INPUT_DEPTH) return undefined;
  const out: unknown[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    // An array in an array is built the same way by both libraries; undefined (or a hole) is not modelled.
    const built = Array.isArray(item) ? buildArray(plan, item, depth + 1) : build(plan, item);
    if (built === undefined) return undefined;
    out.push(built);
  }
  return out;
}

function passes(tests: Test[], value: unknown): boolean {
  for (const test of tests) if (!test(value)) return false;
  return true;
}
