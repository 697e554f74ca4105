import { Logger, type Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants.js';
import { providerDisplayName } from '../http/provider-errors.js';
import { INBOX_OUTCOMES } from '../orders/entities/webhook-inbox-event.entity.js';
import { WEBHOOK_BODY_PARAM, invalidWebhookBody } from './webhook-body.js';
import { WEBHOOK_REFUSALS } from './webhook-intake.js';
import type { WebhookSourceInfo } from './webhook-routes.js';

// The little of @nestjs/swagger used here, so that it stays an optional peer (like express and
// Fastify in webhook-front-door.ts).
type Decorator = (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => unknown;
interface Swagger {
  ApiTags(...tags: string[]): Decorator;
  ApiExcludeController(disable?: boolean): Decorator;
  ApiOperation(options: { summary: string; description: string }): Decorator;
  ApiConsumes(...mimeTypes: string[]): Decorator;
  ApiQuery(options: { name: string; required: boolean; type: StringConstructor; description: string }): Decorator;
  ApiBody(options: { type: Function; required: boolean; description: string }): Decorator;
  ApiResponse(options: { status: number; description: string; schema: object; examples: Record<string, { summary: string; value: unknown }> }): Decorator;
}

/** Default of `webhooks.maxBodyBytes`, for the 413 example (the description names the option). */
const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
export const WEBHOOK_OPENAPI_TAG = 'fulfilment webhooks';

/** The JSON body of every refusal (WebhookResponder sends what the intake and the pipe throw). */
const refusalSchema = (withFields: boolean): object => ({
  type: 'object',
  required: ['statusCode', 'message', ...(withFields ? ['fields'] : [])],
  properties: {
    statusCode: { type: 'integer' },
    message: { type: 'string' },
    ...(withFields
      ? {
          fields: {
            type: 'array',
            description: 'Each bad field once, by its path from the root of the body (`(body)`: the body itself), with the first rule it broke. Never its value.',
            items: { type: 'object', required: ['path', 'message'], properties: { path: { type: 'string' }, message: { type: 'string' } } },
          },
        }
      : { error: { type: 'string' } }),
  },
});

const receiptSchema = {
  type: 'object',
  required: ['received', 'duplicate', 'outcome'],
  properties: {
    received: { type: 'boolean', enum: [true] },
    duplicate: { type: 'boolean', description: 'The same event was received before: acknowledged, not applied again.' },
    outcome: { type: 'string', enum: [...INBOX_OUTCOMES], nullable: true, description: 'What applying it did; null for a duplicate.' },
  },
};

/** Every answer of a webhook route, each example built by the code that answers it. */
function responses(swagger: Swagger): Decorator[] {
  const example = (summary: string, value: unknown) => ({ summary, value });
  const refusal = (status: number, description: string, examples: Record<string, { summary: string; value: unknown }>, withFields = false) =>
    swagger.ApiResponse({ status, description, schema: refusalSchema(withFields), examples });
  return [
    swagger.ApiResponse({
      status: 200,
      description: 'Stored (and applied once) before this answer. A duplicate is acknowledged the same way.',
      schema: receiptSchema,
      examples: {
        applied: example('a new event, applied', { received: true, duplicate: false, outcome: 'applied' }),
        duplicate: example('the same event again', { received: true, duplicate: true, outcome: null }),
      },
    }),
    refusal(
      400,
      'The body is not a JSON object, nests deeper than 32 levels, or a field is missing or of the wrong type.',
      {
        field: example('a field of the wrong type', invalidWebhookBody([{ path: 'id', message: 'must be a string' }]).getResponse()),
        json: example('malformed JSON', invalidWebhookBody([{ path: '(body)', message: 'must be valid JSON' }], 'body is not valid JSON').getResponse()),
      },
      true,
    ),
    refusal(401, 'The `token` is missing or wrong (decided before the body is read).', {
      token: example('a wrong token', WEBHOOK_REFUSALS.unauthorized().getResponse()),
    }),
    refusal(413, `The body is larger than \`webhooks.maxBodyBytes\` (default ${DEFAULT_MAX_BODY_BYTES} bytes), by its declared or its received size.`, {
      tooLarge: example('a body over the limit', WEBHOOK_REFUSALS.tooLarge(DEFAULT_MAX_BODY_BYTES).getResponse()),
    }),
    refusal(415, 'The body is not uncompressed UTF-8 JSON (`application/json` or `application/*+json`).', {
      notJson: example('a form or text body', WEBHOOK_REFUSALS.unsupportedMediaType().getResponse()),
    }),
  ];
}

/** The route handlers of a controller: its own methods that Nest routes. */
const handlersOf = (controller: Type): string[] =>
  Object.getOwnPropertyNames(controller.prototype).filter(
    (name) => name !== 'constructor' && Reflect.getMetadata(METHOD_METADATA, controller.prototype[name]) !== undefined,
  );

/** Swagger keeps method metadata on the handler function, which every forRoot's subclass shares: describe each once. */
const described = new WeakSet<Type>();

function describe(swagger: Swagger, controller: Type, source: WebhookSourceInfo): void {
  if (described.has(controller)) return;
  described.add(controller);
  const provider = providerDisplayName(source.provider);
  swagger.ApiTags(WEBHOOK_OPENAPI_TAG)(controller);
  for (const name of handlersOf(controller)) {
    const descriptor = Object.getOwnPropertyDescriptor(controller.prototype, name)!;
    const bodyIndex = Reflect.getMetadata(WEBHOOK_BODY_PARAM, controller.prototype, name) as number | undefined;
    const bodyType = bodyIndex === undefined ? undefined : (Reflect.getMetadata('design:paramtypes', controller.prototype, name) as Function[])[bodyIndex];
    const decorators = [
      swagger.ApiOperation({
        summary: `${provider} webhook: ${source.topic} events`,
        description:
          `Called by ${provider} at the callback URL the module registers. Token (401), content type (415) and size (413) are ` +
          'checked before the body is read; then the body is validated (400), stored with a dedup key and applied once before the 2xx. ' +
          'Fields not listed are accepted and dropped.',
      }),
      swagger.ApiConsumes('application/json'),
      swagger.ApiQuery({ name: 'token', required: true, type: String, description: 'The webhook secret (`webhooks.secret`) the callback URL was registered with.' }),
      ...(bodyType ? [swagger.ApiBody({ type: bodyType, required: true, description: `The event as ${provider} sends it.` })] : []),
      ...responses(swagger),
    ];
    for (const decorate of decorators) decorate(controller.prototype, name, descriptor);
  }
}

const logger = new Logger('Fulfilment:OpenAPI');

/**
 * Describes the webhook routes for `@nestjs/swagger`, when the host has it installed: body schema
 * (the class the route's pipe validates), the `token` query parameter and every answer with an
 * example, so they appear in the host's document with no work on its side. With `include: false`
 * each bound controller is excluded instead. Runs while the app is created, before a host builds
 * its document; without swagger it does nothing.
 */
export async function describeWebhookRoutes(bound: Array<{ base: Type; subclass: Type; source: WebhookSourceInfo }>, include: boolean): Promise<void> {
  const swagger = (await import('@nestjs/swagger').catch(() => undefined)) as Swagger | undefined;
  if (!swagger) return;
  try {
    for (const { base, subclass, source } of bound) {
      if (include) describe(swagger, base, source);
      else swagger.ApiExcludeController()(subclass);
    }
  } catch (err) {
    // A swagger release we do not know: the document lacks the description, the routes still work.
    logger.warn(`could not describe the webhook routes for @nestjs/swagger: ${(err as Error).message}`);
  }
}
