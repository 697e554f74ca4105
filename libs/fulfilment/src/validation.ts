import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { FulfilmentValidationError } from './orders/fulfilment-errors.js';

/** Flattens class-validator's tree into `a.b[0].c` paths with their messages (never the values). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): Array<{ path: string; messages: string[] }> {
  const out: Array<{ path: string; messages: string[] }> = [];
  for (const error of errors) {
    const segment = /^\d+$/.test(error.property) ? `[${error.property}]` : parent ? `.${error.property}` : error.property;
    const path = `${parent}${segment}`;
    if (error.constraints) {
      // class-validator prefixes messages with the bare property name; the path says more.
      const messages = Object.values(error.constraints).map((m) => m.replace(new RegExp(`^${error.property}\\s+`), ''));
      out.push({ path, messages });
    }
    if (error.children?.length) out.push(...flattenValidationErrors(error.children, path));
  }
  return out;
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
 * throws FulfilmentValidationError naming every bad field.
 */
export function validateInput<T extends object>(dto: ClassConstructor<T>, input: unknown, operation: string): T {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new FulfilmentValidationError(operation, [{ path: '(input)', messages: ['must be an object'] }]);
  }
  const deep = tooDeepPath(input);
  if (deep) throw new FulfilmentValidationError(operation, [{ path: deep, messages: [`must not nest deeper than ${MAX_INPUT_DEPTH} levels`] }]);
  const instance = plainToInstance(dto, input);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: false } });
  if (errors.length > 0) throw new FulfilmentValidationError(operation, flattenValidationErrors(errors));
  return instance;
}

/**
 * An id passed to a client call (it becomes a path segment). A plain check rather than a DTO: it runs
 * on every provider read, where class-validator cost about 10 µs for this one string.
 */
export function validateId(value: unknown, operation: string, maxLength: number): string {
  const problem =
    typeof value !== 'string' ? 'must be a string' : value === '' ? 'must not be empty' : value.length > maxLength ? `must be at most ${maxLength} characters` : undefined;
  if (problem) throw new FulfilmentValidationError(operation, [{ path: 'id', messages: [problem] }]);
  return value as string;
}
