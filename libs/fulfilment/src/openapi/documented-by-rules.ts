import { getMetadataStorage } from 'class-validator';
import { NESTED_TYPE, type NestedType } from '../validation.js';

/**
 * OpenAPI descriptions of the module's DTOs, read from their class-validator rules: the rules are
 * the one definition, and no `@ApiProperty` twin of them exists to drift.
 *
 * `@nestjs/swagger` is an optional peer, so nothing here imports it. A class carries the static
 * method that swagger's own CLI plugin generates for a DTO (`_OPENAPI_METADATA_FACTORY`, see
 * https://docs.nestjs.com/openapi/cli-plugin); swagger calls it, for the class and each class it
 * extends, whenever it builds a document with the class in it, and its mapped types (`PickType`,
 * `OmitType`, `PartialType`) copy it. A host that puts a module DTO in its own DTO
 * (`@ApiProperty() patient: CaryRxPatientInputDto`) gets the full nested schema; a host without
 * swagger never calls it.
 */
const SWAGGER_METADATA_FACTORY = '_OPENAPI_METADATA_FACTORY';

type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

/** What swagger's plugin metadata holds for one property (the `@ApiProperty()` options). */
interface PropertyDescription {
  required: boolean;
  nullable?: boolean;
  /** An OpenAPI type, or a lazy class (an array of one for a list): swagger names and `$ref`s it. */
  type?: string | (() => Function | [Function]);
  description?: string;
  [keyword: string]: unknown;
}

/** Schema keywords for the validators that have one; every other rule goes into the description. */
const KEYWORDS: Record<string, (c: unknown[]) => Record<string, unknown>> = {
  isString: () => ({ type: 'string' }),
  isNumber: () => ({ type: 'number' }),
  isInt: () => ({ type: 'integer' }),
  isBoolean: () => ({ type: 'boolean' }),
  isArray: () => ({ type: 'array' }),
  isObject: () => ({ type: 'object' }),
  isIn: (c) => ({ enum: c[0] }),
  matches: (c) => ({ type: 'string', pattern: c[0] instanceof RegExp ? c[0].source : String(c[0]) }),
  maxLength: (c) => ({ maxLength: c[0] }),
  minLength: (c) => ({ minLength: c[0] }),
  isLength: (c) => ({ minLength: c[0], ...(c[1] === undefined ? {} : { maxLength: c[1] }) }),
  min: (c) => ({ minimum: c[0] }),
  max: (c) => ({ maximum: c[0] }),
  arrayMinSize: (c) => ({ minItems: c[0] }),
  arrayMaxSize: (c) => ({ maxItems: c[0] }),
  isEmail: () => ({ type: 'string', format: 'email' }),
  isIso8601: () => ({ type: 'string', format: 'date-time' }),
  // The module's own rules.
  isNumberOrString: () => ({ oneOf: [{ type: 'number' }, { type: 'string' }] }),
};
/** The module's own rules that imply a format; their message still says the rest (e.g. "not in the future"). */
const FORMATS: Record<string, string> = { isPastCalendarDate: 'date', isCalendarDate: 'date', isIsoTimestamp: 'date-time' };
const DESIGN_TYPES = new Map<unknown, string>([
  [String, 'string'],
  [Number, 'number'],
  [Boolean, 'boolean'],
]);

const sentence = (message: string): string => `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;

/** Lets `@nestjs/swagger` describe the class (and, through it, the classes nested in it) from its rules. */
export function DocumentedByRules(): ClassDecorator {
  return (target) => describeForSwagger(target);
}

function describeForSwagger(target: Function): void {
  if (Object.prototype.hasOwnProperty.call(target, SWAGGER_METADATA_FACTORY)) return;
  Object.defineProperty(target, SWAGGER_METADATA_FACTORY, {
    configurable: true,
    writable: true,
    // `this`: the class swagger asks about, a subclass included (its inherited rules are its own).
    value(this: Function) {
      return openApiPropertiesOf(this);
    },
  });
}

/** Each validated property of `dto` (inherited ones included) as swagger property metadata. */
function openApiPropertiesOf(dto: Function): Record<string, PropertyDescription> {
  const byProperty = new Map<string, ValidationMetadata[]>();
  for (const m of getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false)) {
    byProperty.set(m.propertyName, [...(byProperty.get(m.propertyName) ?? []), m]);
  }
  return Object.fromEntries([...byProperty].map(([property, rules]) => [property, describeProperty(dto, property, rules)]));
}

function describeProperty(dto: Function, property: string, rules: ValidationMetadata[]): PropertyDescription {
  const conditions = rules.filter((r) => r.type === 'conditionalValidation');
  const schema: Record<string, unknown> = {};
  const items: Record<string, unknown> = {};
  const notes: string[] = [];
  let notEmpty: Record<string, unknown> | undefined;
  // Stacked decorators register from the last one up: read them as they are written.
  for (const rule of [...rules].reverse()) {
    const into = rule.each ? items : schema;
    const message = typeof rule.message === 'string' ? rule.message : undefined;
    if (rule.type === 'isDefined') {
      // Required only under a condition (ValidateIf): the condition is in its message.
      if (conditions.length > 0 && message) notes.push(sentence(message));
    } else if (rule.type === 'customValidation' && rule.name) {
      const keyword = KEYWORDS[rule.name];
      if (keyword) Object.assign(into, keyword(rule.constraints ?? []));
      else if (rule.name === 'isNotEmpty') notEmpty = into;
      else {
        if (FORMATS[rule.name]) Object.assign(into, { type: 'string', format: FORMATS[rule.name] });
        if (message) notes.push(sentence(message));
      }
    }
  }
  if (notEmpty && notEmpty.type === 'string') notEmpty.minLength ??= 1;
  if (Object.keys(items).length > 0) schema.items = items;
  if (schema.enum && !schema.type) schema.type = 'string';

  const nested = Reflect.getMetadata(NESTED_TYPE, dto.prototype, property) as NestedType | undefined;
  if (nested) {
    delete schema.type;
    delete schema.items;
    Object.assign(schema, {
      // Named `type` (as swagger's plugin writes it): swagger resolves a lazy type by that name.
      type: () => {
        const nestedClass = nested.type();
        describeForSwagger(nestedClass);
        return nested.each ? [nestedClass] : nestedClass;
      },
    });
  } else if (!schema.type) {
    const designType = DESIGN_TYPES.get(Reflect.getMetadata('design:type', dto.prototype, property));
    if (designType) schema.type = designType;
  }

  const description: PropertyDescription = { required: conditions.length === 0, ...schema };
  // IsOptional lets null through as well as a missing field.
  if (conditions.some((c) => c.name === 'isOptional')) description.nullable = true;
  if (notes.length > 0) description.description = notes.join(' ');
  return description;
}
