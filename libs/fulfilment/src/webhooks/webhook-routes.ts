import { Controller, type Provider, type Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { DEFAULT_ROUTE_PREFIX, type ResolvedFulfilmentOptions } from '../fulfilment.options.js';
import { RESOLVED_OPTIONS } from '../fulfilment.constants.js';

const WEBHOOK_SUBPATH = 'fulfilment:webhook-subpath';
export const WEBHOOK_ROUTES = Symbol('FULFILMENT_WEBHOOK_ROUTES');

/**
 * Marks a webhook controller served under `/{routePrefix}/webhooks/{subPath}`.
 * The prefix comes from the module options, which forRootAsync only knows once DI runs: see
 * bindWebhookControllers.
 */
export function WebhookController(subPath: string): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(WEBHOOK_SUBPATH, subPath, target);
    Controller(`${DEFAULT_ROUTE_PREFIX}/webhooks/${subPath}`)(target);
  };
}

export const webhookPath = (routePrefix: string, subPath: string): string => `${routePrefix}/webhooks/${subPath}`;

/**
 * Nest reads controller paths when the app initialises, after every provider was built. Each
 * forRoot/forRootAsync call gets its own subclasses of the webhook controllers, and a provider
 * that runs once the options are resolved sets their path. Own subclasses keep two apps in one
 * process (tests, replicas) from sharing a prefix.
 */
export function bindWebhookControllers(controllers: Type[]): { controllers: Type[]; provider: Provider } {
  const bound = controllers.map((base) => {
    const subPath = Reflect.getMetadata(WEBHOOK_SUBPATH, base) as string | undefined;
    if (!subPath) throw new Error(`${base.name} is not decorated with @WebhookController()`);
    const subclass = class extends base {};
    Object.defineProperty(subclass, 'name', { value: base.name });
    return { subclass, subPath };
  });
  return {
    controllers: bound.map((b) => b.subclass),
    provider: {
      provide: WEBHOOK_ROUTES,
      inject: [RESOLVED_OPTIONS],
      useFactory: (options: ResolvedFulfilmentOptions) => {
        for (const { subclass, subPath } of bound) {
          Reflect.defineMetadata(PATH_METADATA, webhookPath(options.webhooks.routePrefix, subPath), subclass);
        }
        return bound.map((b) => webhookPath(options.webhooks.routePrefix, b.subPath));
      },
    },
  };
}
