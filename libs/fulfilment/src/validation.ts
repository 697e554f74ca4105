import { Type, plainToInstance, type ClassConstructor } from 'class-transformer';
import { ValidateNested, registerDecorator, validateSync, type ValidationArguments, type ValidationError, type ValidationOptions } from 'class-validator';
import { FulfilmentValidationError } from './orders/fulfilment-errors.js';

/** One bad field: its path from the root of what the caller sent (`patient.dob`, `prescriptions[0].ndc`) and the first rule it broke. */
export type FieldError = FulfilmentValidationError['fields'][number];

/**
 * Which of a field's broken rules is reported: presence, then type, then format, then range; rules
 * between fields (custom ones) last. A missing field "is required", not "must be a string"; a
 * number where a string belongs "must be a string", not "must be at most 100 characters".
 */
const RULE_RANK: Record<string, number> = {
  whitelistValidation: 0,
  isDefined: 0,
  isNotEmpty: 1,
  arrayNotEmpty: 1,
  isString: 2,
  isNumber: 2,
  isInt: 2,
  isBoolean: 2,
  isArray: 2,
  isObject: 2,
  nestedValidation: 2,
  isIn: 3,
  isEnum: 3,
  matches: 3,
  isEmail: 3,
  isIso8601: 3,
  maxLength: 4,
  minLength: 4,
  isLength: 4,
  min: 4,
  max: 4,
  arrayMinSize: 4,
  arrayMaxSize: 4,
};
const rankOf = (rule: string): number => RULE_RANK[rule] ?? 5;

/**
 * class-validator words its default messages around the bare property name (`reference must be a
 * string`, `each value in ids must be…`); the path says where, so the message keeps the rule.
 */
function ruleMessage(rule: string, message: string, property: string): string {
  if (rule === 'whitelistValidation') return 'is not a known field';
  for (const lead of ['', 'each value in ', 'nested property ']) {
    if (message.startsWith(`${lead}${property} `)) {
      const rest = message.slice(lead.length + property.length + 1);
      if (lead === 'nested property ' && rest === 'must be either object or array') return 'must be an object';
      return lead === 'each value in ' ? `each value ${rest}` : rest;
    }
  }
  return message;
}

/**
 * class-validator's error tree as the module's envelope: each bad field once, by its full path from
 * the root of the validated object, with the first rule it broke (RULE_RANK).
 * Never a value. The one producer of field errors: client calls, webhook bodies and a host's own
 * ValidationPipe (`exceptionFactory`) all answer with it.
 */
export function toFieldErrors(errors: ValidationError[]): FieldError[] {
  const out = new Map<string, FieldError>();
  const walk = (list: ValidationError[], parent: string) => {
    for (const error of list) {
      const segment = /^\d+$/.test(error.property) ? `[${error.property}]` : parent ? `.${error.property}` : error.property;
      const path = `${parent}${segment}`;
      const broken = Object.entries(error.constraints ?? {});
      if (broken.length > 0 && !out.has(path)) {
        // Stable sort: within a rank, the order class-validator checked them in.
        const [rule, message] = broken.sort(([a], [b]) => rankOf(a) - rankOf(b))[0];
        out.set(path, { path, message: ruleMessage(rule, message, error.property) });
      }
      if (error.children?.length) walk(error.children, path);
    }
  };
  walk(errors, '');
  return [...out.values()];
}

/** Metadata key under which Nested records the class of a nested value (read by the OpenAPI description). */
export const NESTED_TYPE = 'fulfilment:nested-type';
export interface NestedType {
  type: () => Function;
  each: boolean;
}

/**
 * A nested object (or, with `each`, an array of them) validated by its own class: class-validator's
 * ValidateNested with class-transformer's Type, recorded so the DTO's OpenAPI description names the
 * class too (one declaration for both).
 */
export function Nested(type: () => Function, { each = false }: { each?: boolean } = {}): PropertyDecorator {
  return (target, key) => {
    ValidateNested({ each })(target, key);
    Type(type as () => ClassConstructor<object>)(target, key);
    Reflect.defineMetadata(NESTED_TYPE, { type, each } satisfies NestedType, target, key);
  };
}

/** Metadata key under which Rule records its validator by rule name (read by the compiled webhook body check). */
export const RULE_VALIDATORS = 'fulfilment:rule-validators';
export type RuleValidate = (value: unknown, args?: ValidationArguments) => boolean;

/** A rule over the property's value and the object holding it. Skipped for undefined values unless `always`. */
export function Rule(name: string, check: (value: unknown, holder: any) => boolean, message: string, always = false): PropertyDecorator {
  return (target, propertyName) => {
    const validate: RuleValidate = (value, args) => (!always && value === undefined ? true : check(value, args?.object));
    registerDecorator({ name, target: target.constructor, propertyName: propertyName as string, options: { message }, validator: { validate } });
    // The same function, recorded so compiled-body-check.ts can call it without class-validator's
    // executor (class-validator's metadata cannot tell a Rule from any other custom constraint).
    // Two rules of one name on one property cannot be told apart there: null, never compiled.
    const byName: Record<string, RuleValidate | null> = { ...Reflect.getOwnMetadata(RULE_VALIDATORS, target, propertyName) };
    byName[name] = name in byName ? null : validate;
    Reflect.defineMetadata(RULE_VALIDATORS, byName, target, propertyName);
  };
}

/** Deepest nesting accepted in input and webhook bodies: far beyond any documented shape. */
export const MAX_INPUT_DEPTH = 32;

/**
 * The path at which `value` nests objects/arrays deeper than `max` (e.g. `order.extra.a.b…`), or
 * undefined. Iterative, so a hostile body cannot overflow the stack here, as recursive walkers
 * such as class-transformer and JSON.stringify would.
 */
export function tooDeepPath(value: unknown, max: number = MAX_INPUT_DEPTH): string | undefined {
  const stack: Array<[unknown, string, number]> = [[value, '', 0]];
  while (stack.length > 0) {
    const [current, path, depth] = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= max) return path || '(input)';
    for (const [key, child] of Object.entries(current as Record<string, unknown>)) {
      const segment = Array.isArray(current) ? `[${key}]` : path ? `.${key}` : key;
      stack.push([child, `${path}${segment}`, depth + 1]);
    }
  }
  return undefined;
}

export const nestsDeeperThan = (value: unknown, max: number = MAX_INPUT_DEPTH): boolean => tooDeepPath(value, max) !== undefined;

/**
 * Validates client input against a DTO class before anything is sent. Returns the typed instance;
 * throws FulfilmentValidationError naming every bad field by its path from `input`.
 */
export function validateInput<T extends object>(dto: ClassConstructor<T>, input: unknown, operation: string): T {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FulfilmentValidationError(operation, [{ path: '(input)', message: 'must be an object' }]);
  }
  const deep = tooDeepPath(input);
  if (deep) throw new FulfilmentValidationError(operation, [{ path: deep, message: `must not nest deeper than ${MAX_INPUT_DEPTH} levels` }]);
  const instance = plainToInstance(dto, input);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: false } });
  if (errors.length > 0) throw new FulfilmentValidationError(operation, toFieldErrors(errors));
  return instance;
}

/**
 * An id passed to a client call (it becomes a path segment), named `path` in the error. A plain
 * check rather than a DTO: it runs on every provider read, where class-validator cost about 10 µs
 * for this one string.
 */
export function validateId(value: unknown, operation: string, maxLength: number, path = 'id'): string {
  const problem =
    typeof value !== 'string' ? 'must be a string' : value === '' ? 'must not be empty' : value.length > maxLength ? `must be at most ${maxLength} characters` : undefined;
  if (problem) throw new FulfilmentValidationError(operation, [{ path, message: problem }]);
  return value as string;
}

/**
 * Runs the checks of every part of a call's input (an id and a body, a reference and a patient)
 * and throws one FulfilmentValidationError with all their fields, so a bad first part never hides
 * a bad second one. Answers each check's result, in order.
 */
export function validateParts<T extends unknown[]>(operation: string, ...checks: { [K in keyof T]: () => T[K] }): T {
  const fields: FieldError[] = [];
  const values = checks.map((check) => {
    try {
      return check();
    } catch (err) {
      if (!(err instanceof FulfilmentValidationError)) throw err;
      fields.push(...err.fields);
      return undefined;
    }
  });
  if (fields.length > 0) throw new FulfilmentValidationError(operation, fields);
  return values as T;
}

/** `YYYY-MM-DD`, a real calendar date, not in the future (UTC). */
export function IsPastCalendarDate(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isPastCalendarDate',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: 'must be a real date as YYYY-MM-DD, not in the future', ...options },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
          const [y, m, d] = value.split('-').map(Number);
          const date = new Date(Date.UTC(y, m - 1, d));
          const real = date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
          return real && y >= 1900 && date.getTime() <= Date.now();
        },
      },
    });
}
